/**
 * The package as a user gets it, from a fresh `git clone` of this commit: `npm pack`
 * (which builds dist/ through `prepare`) and `npm install <clone>/ts_client`, each into
 * a scratch project in a temp dir outside the repository; `django-ts generate` for the
 * schema the server serves; `tsc` under strict settings; the program run against the
 * run's daphne, its answer compared with the ORM's. Dependencies come through npm
 * (`--prefer-offline`: the npm cache first).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { djangoShell, python, ROOT } from './server.js';

const exec = promisify(execFile);
const NPM = ['--prefer-offline', '--no-audit', '--no-fund'];
/** What the scratch project needs besides the package (Node 20 has no global WebSocket). */
const EXTRA = ['ws@^8.18', 'typescript@~6.0.3', '@types/node@^20.19', '@types/ws@^8.18'];

let work: string;
const timings: string[] = [];

/** Run a command in `cwd`; its output is kept for the failure message, its time for the log. */
async function sh(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const started = Date.now();
  try {
    const { stdout } = await exec(cmd, args, {
      cwd, env: { ...process.env, ...env }, timeout: 600_000, maxBuffer: 32 << 20,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  } finally {
    timings.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${cmd} ${args.join(' ')}`);
  }
}

/** A fresh clone of the commit under test. */
async function freshClone(name: string): Promise<string> {
  const head = (await sh(ROOT, 'git', ['rev-parse', 'HEAD'])).trim();
  const dir = join(work, name);
  await sh(work, 'git', ['clone', '--quiet', '--no-checkout', ROOT, dir]);
  await sh(dir, 'git', ['checkout', '--quiet', head]);
  return dir;
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'],
    strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, verbatimModuleSyntax: true,
    skipLibCheck: false, outDir: 'dist', rootDir: 'src',
  },
  include: ['src'],
};

/** The user's program: it imports the package by name and the models generated for this server. */
const MAIN = `import WebSocket from 'ws';
import { createClient, tokenAuth } from 'django-graphql-realtime-client';
import { Article } from './generated/models.js';

const client = createClient({ url: process.env.GRAPHQL_URL!, WebSocket });
await tokenAuth({ username: 'viewer', password: 'demo-password' }, client);
const published = Article.objects.using(client).filter({ published: true, id__lte: Number(process.env.LAST) });
const first = await published.select_related('author').order_by('id').limit(3);
// A lookup the model lacks fails to compile in the user's project too (never called).
// @ts-expect-error nope is no field of Article
export const wrong = () => published.filter({ nope: 1 });
console.log(JSON.stringify({ count: await published.count(), first: first.map((a) => [a.id, a.author?.username ?? null]) }));
await client.close();
`;

/** A scratch project with `install` (a tarball or a folder) installed, generated, compiled and run. */
async function userProject(name: string, install: string): Promise<unknown> {
  const app = join(work, name);
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(app, 'src/main.ts'), MAIN);
  await sh(app, 'npm', ['install', ...NPM, install, ...EXTRA]);
  // The schema the run's server serves: the same settings and database as its daphne.
  await python(['manage.py', 'export_client_schema', '--out', join(app, 'schema')]);
  const help = await sh(app, 'npx', ['--no-install', 'django-ts', '--help']);
  expect(help).toMatch(/^usage: django-ts generate/);
  await sh(app, 'npx', ['--no-install', 'django-ts', 'generate', '--out', 'src/generated']);
  expect(readFileSync(join(app, 'src/generated/models.ts'), 'utf8')).toContain('from "django-graphql-realtime-client"');
  await sh(app, 'npx', ['--no-install', 'tsc', '-p', '.']);
  const out = await sh(app, 'node', ['dist/main.js'], { GRAPHQL_URL: inject('graphqlUrl'), LAST: inject('lastSeededArticle') });
  return JSON.parse(out.trim().split('\n').pop()!);
}

let expected: unknown;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ts-client-package-'));
  const last = inject('lastSeededArticle');
  const out = await djangoShell([
    'import json',
    'from myproject.models import Article',
    `qs = Article.objects.filter(published=True, id__lte=${last})`,
    'first = [[str(a.id), a.author.username] for a in qs.select_related("author").order_by("id")[:3]]',
    'print("ORM " + json.dumps({"count": qs.count(), "first": first}))',
  ].join('\n'));
  expected = JSON.parse(out.split('\n').find((l) => l.startsWith('ORM '))!.slice(4));
});
afterAll(() => {
  console.log(`package test steps:\n${timings.join('\n')}`);
  rmSync(work, { recursive: true, force: true });
});

describe('the package from a fresh clone', () => {
  it('npm pack builds dist/ (prepare); the tarball installs, generates, compiles under strict and runs', async () => {
    const clone = await freshClone('clone-pack');
    const packed = await sh(join(clone, 'ts_client'), 'npm', ['pack', ...NPM, '--pack-destination', work]);
    const tarball = join(work, packed.trim().split('\n').pop()!);
    const listing = await sh(work, 'tar', ['tzf', tarball]);
    expect(listing).toContain('package/dist/src/index.js');
    expect(listing).toContain('package/dist/src/index.d.ts');
    expect(listing).toContain('package/bin/django-ts.mjs');
    expect(await userProject('app-tarball', tarball)).toEqual(expected);
  }, 900_000);

  it('npm install <clone>/ts_client (a folder) works the same', async () => {
    const clone = await freshClone('clone-folder');
    expect(await userProject('app-folder', join(clone, 'ts_client'))).toEqual(expected);
  }, 900_000);

  it('django-ts with bad arguments prints its usage, not a stack trace', async () => {
    const bin = join(ROOT, 'ts_client/bin/django-ts.mjs');
    for (const args of [[], ['generat'], ['generate', '--nope'], ['generate', '--depth', 'x']]) {
      const failure = await exec('node', [bin, ...args]).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toMatch(/^django-ts: .*\n\nusage: django-ts generate/s);
      expect(failure?.stderr).not.toMatch(/\n\s+at /);
    }
    const missing = await exec('node', [bin, 'generate', '--schema', join(tmpdir(), 'no-such.json')])
      .then(() => null, (e: { code: number; stderr: string }) => e);
    expect(missing?.code).toBe(1);
    expect(missing?.stderr).toMatch(/^django-ts: cannot read .*no-such\.json/);
    expect(missing?.stderr).not.toMatch(/\n\s+at /);
  });
});
