/**
 * The real server for e2e tests: a fresh database (migrated and seeded), daphne on
 * a free loopback port, ready only once it answers a real GraphQL query (an open
 * port may belong to someone else's server), stopped by its pid.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE = resolve(here, '../..');
export const ROOT = resolve(PACKAGE, '..');
const WORK = join(PACKAGE, '.e2e');
export const PYTHON = process.env.PYTHON
  ?? (existsSync(join(ROOT, '.venv/bin/python')) ? join(ROOT, '.venv/bin/python') : 'python3');

/** The environment of every Python process of the run: e2e settings, the e2e database. */
export function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DJANGO_SETTINGS_MODULE: 'e2e_settings',
    PYTHONPATH: [ROOT, here, process.env.PYTHONPATH].filter(Boolean).join(':'),
    TS_E2E_SQLITE: join(WORK, 'db.sqlite3'),
    PYTHONUNBUFFERED: '1',
  };
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    // Parallel runs on one machine (TEST_DB_SUFFIX) each get their own database.
    url.pathname = `/ts_client_e2e${process.env.TEST_DB_SUFFIX ?? ''}`;
    env.DATABASE_URL = url.toString();
  }
  return env;
}

const run = promisify(execFile);

/** `python <args>` in the repository root with the e2e environment; resolves to stdout. */
export async function python(args: string[], timeout = 120_000): Promise<string> {
  const { stdout } = await run(PYTHON, args, { cwd: ROOT, env: pythonEnv(), timeout, maxBuffer: 16 << 20 });
  return stdout;
}

/** Run Django code in a separate process, as any worker or shell would: `manage.py shell -c`. */
export function djangoShell(code: string, timeout = 120_000): Promise<string> {
  return python(['manage.py', 'shell', '-c', code], timeout);
}

/** Fresh database, migrated and seeded; resolves to the last seeded article's id. */
export async function prepareDatabase(): Promise<string> {
  mkdirSync(WORK, { recursive: true });
  await python([join(here, 'prepare_db.py')]);
  await python(['manage.py', 'migrate', '--no-input', '-v', '0'], 300_000);
  await python(['manage.py', 'seed_demo', '--articles', '300', '--users', '40']);
  const out = await djangoShell('from myproject.models import Article; print(Article.objects.order_by("-id")[0].id)');
  return out.trim().split('\n').pop()!; // the shell may print its auto-imports first
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

export interface Daphne {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A real GraphQL answer from this server, not just an open port. */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(2000),
    });
    const body = (await response.json()) as { data?: { __typename?: string } };
    return body.data?.__typename === 'Query';
  } catch {
    return false;
  }
}

export async function startDaphne(port?: number): Promise<Daphne> {
  const chosen = port ?? (await freePort());
  mkdirSync(WORK, { recursive: true });
  const log = createWriteStream(join(WORK, `daphne-${chosen}.log`), { flags: 'a' });
  const child: ChildProcess = spawn(
    PYTHON, ['-m', 'daphne', '-b', '127.0.0.1', '-p', String(chosen), 'myproject.asgi:application'],
    { cwd: ROOT, env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${chosen}/graphql`;
  let exited: number | null | undefined;
  const done = new Promise<void>((resolveExit) => child.once('exit', (code) => {
    exited = code;
    resolveExit();
  }));
  const deadline = Date.now() + 60_000;
  while (!(await answers(url))) {
    if (exited !== undefined) throw new Error(`daphne exited with ${exited}; see ${join(WORK, `daphne-${chosen}.log`)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('daphne did not answer GraphQL within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid!;
  return {
    url,
    port: chosen,
    pid,
    async stop() {
      if (exited !== undefined) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => exited === undefined && process.kill(pid, 'SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

const SESSION_BOOT = `
import json, sys, traceback
import django
django.setup()
scope = {}
for line in sys.stdin:
    try:
        exec(json.loads(line), scope)
        print(json.dumps({"ok": True, "result": scope.pop("result", None)}, default=str), flush=True)
    except Exception:
        print(json.dumps({"ok": False, "error": traceback.format_exc()}), flush=True)
`;

/**
 * One long-lived Django process (like a worker) that runs code on demand, so a test
 * can write, wait for the event, and write again without paying Python's start-up.
 * Code sets \`result\` to send a value back.
 */
export class PythonSession {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ ok: (v: unknown) => void; fail: (e: Error) => void }> = [];
  private buffer = '';

  constructor() {
    this.child = spawn(PYTHON, ['-u', '-c', SESSION_BOOT], { cwd: ROOT, env: pythonEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()).slice(-4000));
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        const reply = JSON.parse(line) as { ok: boolean; result?: unknown; error?: string };
        const next = this.waiting.shift();
        if (reply.ok) next?.ok(reply.result);
        else next?.fail(new Error(reply.error));
      }
    });
    this.child.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.fail(new Error(`python exited with ${code}: ${stderr}`));
    });
  }

  /** Run statements (several lines allowed); resolves to the value of \`result\`. */
  run<T = unknown>(code: string): Promise<T> {
    return new Promise<T>((ok, fail) => {
      this.waiting.push({ ok: ok as (v: unknown) => void, fail });
      this.child.stdin?.write(`${JSON.stringify(code)}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin?.end();
    await exited;
  }
}

export interface Worker {
  pid: number;
  log: string;
  stop(): Promise<void>;
}

/** A real Celery worker (`celery -A myproject worker`) on the run's database and broker. */
export async function startWorker(name: string): Promise<Worker> {
  mkdirSync(WORK, { recursive: true });
  const logPath = join(WORK, `worker-${name}-${process.pid}.log`);
  let output = '';
  const log = createWriteStream(logPath, { flags: 'a' });
  const child: ChildProcess = spawn(
    PYTHON, ['-m', 'celery', '-A', 'myproject', 'worker', '--loglevel=INFO', '--pool=prefork',
      '--concurrency=1', '--without-gossip', '--without-mingle', '--without-heartbeat',
      '-n', `${name}-${process.pid}@localhost`],
    { cwd: ROOT, env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      log.write(chunk);
    });
  }
  let exited: number | null | undefined;
  const done = new Promise<void>((resolveExit) => child.once('exit', (code) => {
    exited = code;
    resolveExit();
  }));
  const deadline = Date.now() + 60_000;
  while (!output.includes(' ready.')) {
    if (exited !== undefined) throw new Error(`the worker exited with ${exited}; see ${logPath}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the worker was not ready within 60 s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    pid,
    log: logPath,
    async stop() {
      if (exited !== undefined) return;
      process.kill(pid, 'SIGQUIT');
      const timer = setTimeout(() => exited === undefined && process.kill(pid, 'SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
