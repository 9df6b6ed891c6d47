// Build the live page: tsc (ts_client's own TypeScript, so nothing more to install)
// compiles src/ and the ts_client sources it imports to ES modules under
// myproject/static/myproject/live/; graphql-ws's browser build is copied beside
// them, and the page's import map points the bare 'graphql-ws/client' there.
// No bundler, no CDN: Django serves every file.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(here, '..', 'static', 'myproject', 'live');
const tsc = join(root, 'ts_client', 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(out, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const graphqlWs = join(root, 'ts_client', 'node_modules', 'graphql-ws', 'dist');
const vendor = join(out, 'vendor', 'graphql-ws');
mkdirSync(vendor, { recursive: true });
// client.js imports its shared chunk (common-<hash>.js); nothing else.
for (const file of readdirSync(graphqlWs)) {
  if (file === 'client.js' || /^common-.*\.js$/.test(file)) copyFileSync(join(graphqlWs, file), join(vendor, file));
}
console.log(`live page built in ${out}`);
