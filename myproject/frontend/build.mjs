// Build the /live/ page: a React app on ts_client's live QuerySet.
// 1. tsc type-checks src/ (strict) with ts_client's TypeScript;
// 2. esbuild (ts_client's dev dependency) bundles src/main.tsx with the ts_client
//    sources it imports, graphql-ws and React into one ES module, minified, under
//    myproject/static/myproject/live/. Django serves it: no CDN, no dev server.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const packages = join(root, 'ts_client', 'node_modules');
const out = join(here, '..', 'static', 'myproject', 'live');
const tsc = join(packages, 'typescript', 'bin', 'tsc');

const checked = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
if (checked.status !== 0) process.exit(checked.status ?? 1);

const { build } = createRequire(join(packages, 'esbuild', 'package.json'))('esbuild');
rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { live: join(here, 'src', 'main.tsx') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  // React and graphql-ws live in ts_client's node_modules (one copy of React for the
  // page and for ts_client/react).
  nodePaths: [packages],
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`live page built in ${out} (${(bytes / 1024).toFixed(1)} KB of JavaScript)`);
