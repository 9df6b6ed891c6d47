// @ts-check
/**
 * `npm test`: end-to-end tests in a real browser against a real cluster.
 *
 * 1. Without Debian's chromium (/usr/bin/chromium) there is nothing to drive: fail
 *    with the command that installs it (scripts/test runs scripts/test-tools first,
 *    which does). playwright-core never downloads a browser.
 * 2. Type-check these files (strict, through their JSDoc).
 * 3. Build what the tests import or serve when it is missing: ts_client's dist/
 *    (the Node subscriber imports the package) and the /live/ page.
 * 4. Start a cluster (scripts/cluster: PostgreSQL, Redis, two workers, nginx) on a
 *    fresh database with the demo users and data; run test/*.test.mjs one file at
 *    a time (they share it); stop it, whatever happened.
 *
 * `npm test -- graphiql` runs only the files whose name contains an argument.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const only = process.argv.slice(2);

/** @param {string} cmd @param {string[]} args @param {import('node:child_process').SpawnSyncOptions} [options] */
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  return result.status ?? 1;
}

if (!existsSync(CHROMIUM)) {
  console.error(`FAILED: the browser tests need Debian's chromium at ${CHROMIUM}: sudo apt-get install -y chromium`);
  process.exit(1);
}

console.log('== tsc (browser tests)');
if (run(join(here, 'node_modules', '.bin', 'tsc'), ['-p', join(here, 'tsconfig.json')]) !== 0) process.exit(1);

if (!existsSync(join(root, 'ts_client', 'dist', 'src', 'index.js'))) {
  console.log('== building ts_client (dist/)');
  if (run('npm', ['run', 'build', '--silent'], { cwd: join(root, 'ts_client') }) !== 0) process.exit(1);
}
if (!existsSync(join(root, 'myproject', 'static', 'myproject', 'live', 'live.js'))) {
  console.log('== building the /live/ page');
  if (run(process.execPath, [join(root, 'myproject', 'frontend', 'build.mjs')]) !== 0) process.exit(1);
}

const name = `browser${process.env.TEST_DB_SUFFIX ?? ''}`;
const cluster = (/** @type {string[]} */ ...args) => spawnSync(join(root, 'scripts', 'cluster'), ['--name', name, ...args], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});

console.log(`== cluster ${name}: start`);
const started = cluster('start', '--fresh', '--seed', '--workers', '2');
if (started.status !== 0) process.exit(1);
let status = 1;
try {
  const description = cluster('status', '--json').stdout;
  const files = readdirSync(join(here, 'test'))
    .filter((file) => file.endsWith('.test.mjs'))
    .filter((file) => only.length === 0 || only.some((part) => file.includes(part)))
    .sort()
    .map((file) => join(here, 'test', file));
  console.log('== browser tests');
  status = run(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    env: { ...process.env, CLUSTER: description, CLUSTER_NAME: name },
  });
} finally {
  console.log(`== cluster ${name}: stop`);
  cluster('stop');
}
process.exit(status);
