// @ts-check
/**
 * `prepare` (npm runs it on `npm install` here, on `npm pack`, and when another
 * project installs this folder): build dist/ so the package works wherever it came
 * from. A fresh clone has no node_modules: the locked dependencies (TypeScript
 * among them) are installed first, without scripts, so a folder install
 * (`npm install <clone>/ts_client`, a symlink) also finds graphql-ws here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** @param {string} cmd @param {string[]} args */
function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`prepare: \`${cmd} ${args.join(' ')}\` failed in ${root}`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync(join(root, 'node_modules', 'typescript', 'bin', 'tsc'))) {
  run(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline']);
}
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
