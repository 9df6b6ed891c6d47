import { inject } from 'vitest';
import WebSocket from 'ws';
import { createClient, tokenAuth, type Client, type ClientOptions } from '../../src/index.js';

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

/** A client in token mode, logged in as one of the seeded accounts. */
export async function clientAs(username: 'admin' | 'editor' | 'viewer', options: Partial<ClientOptions> = {}): Promise<Client> {
  const c = client(options);
  await tokenAuth({ username, password: PASSWORD }, c);
  return c;
}

/** A name no other test (or run) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Resolve once `predicate` holds (checked every 20 ms), or fail after `ms`. */
export async function until(predicate: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
