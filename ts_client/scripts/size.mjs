// @ts-check
/**
 * `npm run size`: the runtime's bundle size, minified and gzipped, as a browser
 * app would ship it (esbuild, ESM, tree-shaken), with and without graphql-ws, and
 * with the generated demo models, and the React entry (React itself external: the
 * app has it anyway).
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

/** @param {string} label @param {string} source @param {string[]} external */
async function measure(label, source, external = []) {
  const result = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, external, logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${label.padEnd(46)} ${kb(code.length).padStart(9)} min  ${kb(gzipSync(code, { level: 9 }).length).padStart(8)} gzip`);
}

const everything = "export * from './src/index.ts';";
// What an app imports: a client, auth, and its models (the generated metadata included).
const app = `export { configure, authenticate, logout, tokenAuth } from './src/index.ts';
export { Article, Comment, Profile, Tag, User } from './src/generated/models.ts';`;
await measure('runtime, every export, + graphql-ws', everything);
await measure('runtime, every export, graphql-ws external', everything, ['graphql-ws', 'graphql-ws/client']);
await measure('app: client + auth + 5 demo models + graphql-ws', app);
await measure('react entry alone (React external)', "export * from './src/react.ts';", ['react']);
await measure('app above + react entry', `${app}
export * from './src/react.ts';`, ['react']);
