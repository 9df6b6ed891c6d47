import { afterAll, beforeAll, inject } from 'vitest';
import WebSocket from 'ws';
import { authenticate, createClient, tokenAuth, type Client, type ClientOptions } from '../../src/index.js';
import { PythonSession } from './server.js';

export const PASSWORD = 'demo-password';

/** A client of the run's daphne; Node 20 has no global WebSocket, so `ws` is passed. */
export function client(options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: inject('graphqlUrl'),
    WebSocket,
    live: { minDelay: 100, maxDelay: 1000, keepAlive: 5000, pongTimeout: 5000 },
    ...options,
  });
}

/** The seeded accounts (password PASSWORD). */
export type Account = 'admin' | 'editor' | 'viewer';

/** A client in token mode, logged in as one of the seeded accounts. */
export async function clientAs(username: Account, options: Partial<ClientOptions> = {}): Promise<Client> {
  const c = client(options);
  await tokenAuth({ username, password: PASSWORD }, c);
  return c;
}

/** How a test's client logs in: not at all, with a token, or with a session cookie. */
export type Login = 'anonymous' | Account | `${Account} (session)`;

async function loggedIn(login: Login): Promise<Client> {
  if (login === 'anonymous') return client();
  if (!login.endsWith(' (session)')) return clientAs(login as Account);
  const c = client();
  await authenticate({ username: login.slice(0, -' (session)'.length), password: PASSWORD }, c);
  return c;
}

/**
 * The clients of a test file (or describe block), logged in before its first test
 * and closed after its last: `const users = clients({ viewer: 'viewer' })`, then
 * `users.viewer` inside the tests.
 */
export function clients<const L extends Record<string, Login>>(logins: L): { readonly [K in keyof L]: Client } {
  const made: Record<string, Client> = {};
  beforeAll(async () => {
    await Promise.all(Object.entries(logins).map(async ([name, login]) => (made[name] = await loggedIn(login))));
  });
  afterAll(async () => {
    await Promise.all(Object.values(made).map((c) => c.close()));
  });
  return made as { readonly [K in keyof L]: Client };
}

/**
 * A Django process of its own for a test file (a PythonSession), started before its
 * first test with `setup` run once, and ended after its last.
 */
export function pythonSession(setup: string): Pick<PythonSession, 'run'> {
  let session: PythonSession;
  beforeAll(async () => {
    session = new PythonSession();
    await session.run(setup);
  });
  afterAll(() => session?.close());
  return { run: (code) => session.run(code) };
}

/** A name no other test (or run) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Resolve once `predicate` holds (checked every 20 ms), or fail after `ms`. */
/**
 * The seeded articles: other test files write articles concurrently (for the first
 * users), so tests that count rows stay on these.
 */
export const seeded = { id__lte: inject('lastSeededArticle') };

export async function until(predicate: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
