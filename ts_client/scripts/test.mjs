// @ts-check
/**
 * `npm test`: everything, in order, and one plain summary line at the end.
 * 1. regenerate src/generated from the committed schema files; fail on drift;
 * 2. tsc --noEmit (strict; includes the type tests);
 * 3. vitest: unit + e2e (a real daphne, started and stopped by the run).
 * Steps 1-2 count as one check each in the summary; every step runs even if one fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

/** @param {string} cmd @param {string[]} args */
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status === 0;
/** @param {string[]} args */
const git = (args) => spawnSync('git', args, { encoding: 'utf8' });

let passed = 0;
let failed = 0;
let skipped = 0;
/** @param {string} name @param {boolean} ok */
function check(name, ok) {
  console.log(`${ok ? 'ok' : 'FAILED'}: ${name}`);
  if (ok) passed += 1;
  else failed += 1;
}

console.log('== generate (drift check on src/generated)');
let generated = run('node', ['bin/django-ts.mjs', 'generate', '--import', '../index.js']);
if (generated && git(['rev-parse', '--is-inside-work-tree']).status === 0) {
  const diff = git(['status', '--porcelain', '--', 'src/generated']).stdout.trim();
  if (diff) {
    console.log(`src/generated differs from the committed files; run npm run generate and commit:\n${diff}`);
    run('git', ['--no-pager', 'diff', '--stat', '--', 'src/generated']);
    generated = false;
  }
}
check('generated client matches schema/', generated);

console.log('== tsc --noEmit');
check('tsc --noEmit (strict, type tests)', run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']));

console.log('== vitest (unit + e2e)');
mkdirSync('.e2e', { recursive: true });
const report = '.e2e/vitest-report.json';
const vitestOk = run('npx', [
  'vitest', 'run', '--project', 'unit', '--project', 'e2e',
  '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
]);
try {
  /** @type {{numPassedTests: number, numFailedTests: number, numPendingTests: number, numTodoTests: number}} */
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
  if (!vitestOk && result.numFailedTests === 0) check('vitest run (setup or collection)', false);
} catch {
  check('vitest report', false);
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
