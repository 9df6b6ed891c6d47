/**
 * Live subscriptions over ONE graphql-ws socket per client (graphql-transport-ws).
 *
 * graphql-ws does the protocol, lazy connect and re-subscribe; this module adds
 * what it leaves to us (research/ts_client.md §5.4):
 * - infinite retries with capped, jittered backoff (its default gives up after 5);
 * - a pong timeout: keep-alive pings alone never notice a dead network;
 * - resume: each subscription's `after` variable is a getter that reads the last
 *   cursor, and graphql-ws serialises the payload when it re-sends it after a
 *   reconnect, so the server replays exactly what this subscription missed;
 * - duplicate suppression by cursor, in case a replay overlaps what we saw;
 * - resubscribe after a server error that says it may pass (INTERNAL_SERVER_ERROR,
 *   UNAVAILABLE): graphql-ws ends an operation on its `error` message, so we
 *   subscribe again from the last cursor, with the same backoff; any other error is
 *   final and reported through `onError` and status 'error', never silently;
 * - restart on identity change (login, logout, token refresh): the socket's user is
 *   fixed at connection_init, so we drop it and reconnect at once (no backoff).
 */
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import type { Client } from './client.js';
import type { Document } from './compile.js';
import { GraphQLRequestError, type ChangeEvent, type GraphQLErrorShape } from './protocol.js';

/** A WebSocket class (the browser's, Node 22's global, or `ws`). */
export type WebSocketLike = unknown;

export interface LiveOptions {
  /** Milliseconds between keep-alive pings (0 disables them). Default 15000. */
  keepAlive?: number;
  /** Milliseconds to wait for the pong before the socket counts as dead. Default 10000. */
  pongTimeout?: number;
  /** First retry delay in ms; it doubles per failed attempt. Default 500. */
  minDelay?: number;
  /** Retry delay cap in ms. Default 30000. */
  maxDelay?: number;
  /** Keep the socket open this long after the last subscription ends. Default 0. */
  lazyCloseTimeout?: number;
  /**
   * The server closed the socket with 4403 (token expired, session logged out
   * elsewhere). Refresh the token here (e.g. `refreshToken(client)`); the socket
   * reconnects after the usual backoff either way.
   */
  onForbidden?: () => void | Promise<void>;
}

/**
 * 'reconnecting': the socket dropped, or the server ended the subscription with an
 * error worth retrying; it resumes from its last cursor by itself. 'error': the
 * server refused it for good (`onError` says why).
 */
export type LiveStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed' | 'error';

/**
 * Server error codes after which subscribing again, from the last cursor, can succeed:
 * the server failed (INTERNAL_SERVER_ERROR) or could not reach what it needs in time
 * (UNAVAILABLE). Errors without a code count too. Every other code (FORBIDDEN,
 * BAD_USER_INPUT, ...) refuses the request itself.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['INTERNAL_SERVER_ERROR', 'UNAVAILABLE']);

/** Whether an operation error from the server is worth a resubscribe. */
export function isRetryable(errors: ReadonlyArray<GraphQLErrorShape>): boolean {
  return errors.length > 0 && errors.every((e) => {
    const code = e.extensions?.code;
    return code === undefined || RETRYABLE_CODES.has(code);
  });
}

export interface LiveHandlers<Row> {
  /** Resume from a cursor kept earlier (e.g. across page loads); default: from now. */
  after?: string | null;
  /** Every event, READY and RESYNC included, in server order. */
  onEvent?(event: ChangeEvent<Row>): void;
  onStatus?(status: LiveStatus): void;
  /** The server could not replay what was missed: refetch, events continue after it. */
  onResync?(): void | Promise<void>;
  onError?(error: unknown): void;
}

export interface LiveSubscription {
  /** Resolves at the first READY (or RESYNC): from then on no change is missed. */
  readonly ready: Promise<void>;
  readonly cursor: string | null;
  readonly status: LiveStatus;
  unsubscribe(): void;
}

/** Capped exponential backoff with "equal jitter": between half and all of min*2^n, at most max. */
export function backoff(retries: number, minDelay: number, maxDelay: number, random = Math.random): number {
  const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(retries, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Whether `cursor` was already seen, given the last one; cursors are compared as integers when they are. */
export function isDuplicate(cursor: string | null, last: string | null): boolean {
  if (cursor === null || last === null) return false;
  if (/^\d+$/.test(cursor) && /^\d+$/.test(last)) return BigInt(cursor) <= BigInt(last);
  return cursor === last;
}

interface Entry {
  setStatus(status: LiveStatus): void;
  /** No more resubscribes: the client is closing. */
  stop(): void;
}

export class Live {
  private ws: WsClient | null = null;
  private readonly entries = new Set<Entry>();
  private restarting = false;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly options: Required<LiveOptions>;

  constructor(
    private readonly client: Client,
    private readonly impl: WebSocketLike | undefined,
    options: LiveOptions = {},
  ) {
    this.options = {
      keepAlive: 15_000, pongTimeout: 10_000, minDelay: 500, maxDelay: 30_000, lazyCloseTimeout: 0,
      onForbidden: () => undefined,
      ...options,
    };
    // Browsers: a laptop waking up or a network coming back deserves a reconnect now,
    // not after the backoff (and a socket from before the sleep may be dead silently).
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('online', () => this.restart());
    }
  }

  /** The shared socket's client, created on first use. */
  private socket(): WsClient {
    if (this.ws) return this.ws;
    const { keepAlive, pongTimeout, minDelay, maxDelay, lazyCloseTimeout } = this.options;
    const ws = createWsClient({
      url: this.client.wsUrl,
      webSocketImpl: this.webSocketClass(),
      lazy: true,
      lazyCloseTimeout,
      keepAlive,
      // Evaluated on every (re)connect, so a refreshed token is picked up.
      connectionParams: () => {
        const token = this.client.getToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (retries) => {
        if (this.restarting) {
          this.restarting = false; // a deliberate restart reconnects at once
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, backoff(retries, minDelay, maxDelay)));
      },
      on: {
        ping: (received) => {
          if (!received && pongTimeout > 0) {
            clearTimeout(this.pongTimer);
            this.pongTimer = setTimeout(() => ws.terminate(), pongTimeout);
          }
        },
        pong: (received) => {
          if (received) clearTimeout(this.pongTimer);
        },
        closed: (event) => {
          clearTimeout(this.pongTimer);
          if ((event as { code?: number } | undefined)?.code === 4403) {
            Promise.resolve(this.options.onForbidden()).catch(() => undefined);
          }
          for (const entry of this.entries) entry.setStatus('reconnecting');
        },
      },
    });
    this.ws = ws;
    return ws;
  }

  /** On Node, a user-supplied class (`ws`) gets the session cookie as a handshake header. */
  private webSocketClass(): unknown {
    const base = (this.impl ?? (globalThis as { WebSocket?: unknown }).WebSocket) as
      | (new (url: string, protocols?: string | string[], options?: unknown) => object)
      | undefined;
    if (base === undefined) {
      throw new Error('No WebSocket implementation: on Node 20 pass `WebSocket` from the `ws` package.');
    }
    if (typeof document !== 'undefined' || this.impl === undefined) return base;
    const headers = () => this.client.handshakeHeaders();
    return class extends base {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: headers() });
      }
    };
  }

  /** Subscribe to a `<model>_changes` document; `field` is its root field name. */
  subscribe<Row>(doc: Document, field: string, handlers: LiveHandlers<Row> = {}): LiveSubscription {
    let cursor: string | null = handlers.after ?? null;
    let status: LiveStatus = 'connecting';
    let resolveReady!: () => void;
    let rejectReady!: (error: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    ready.catch(() => undefined); // a caller who never awaits `ready` must not see an unhandled rejection
    let ended = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const entry: Entry = {
      setStatus(next) {
        if (status === next || status === 'closed' || status === 'error') return;
        status = next;
        handlers.onStatus?.(next);
      },
      stop() {
        ended = true;
        clearTimeout(retryTimer);
      },
    };
    const fail = (error: unknown) => {
      entry.setStatus('error');
      this.entries.delete(entry);
      rejectReady(error);
      handlers.onError?.(error);
    };
    // `after` is read when graphql-ws (re)sends the subscribe message: the last cursor seen.
    const variables: Record<string, unknown> = { ...doc.variables };
    Object.defineProperty(variables, 'after', { enumerable: true, get: () => cursor ?? undefined });

    this.entries.add(entry);
    handlers.onStatus?.('connecting');
    let dispose: () => void = () => undefined;
    let retries = 0;
    const start = () => {
      dispose = this.socket().subscribe<Record<string, ChangeEvent<Row>>>(
        { query: doc.query, variables },
        {
          next: (result) => {
            if (result.errors?.length) {
              handlers.onError?.(new GraphQLRequestError(result.errors as GraphQLErrorShape[]));
              return;
            }
            const event = result.data?.[field];
            if (!event) return;
            const marker = event.op === 'READY' || event.op === 'RESYNC';
            if (!marker && isDuplicate(event.cursor, cursor)) return;
            if (event.cursor !== null && event.cursor !== undefined) cursor = event.cursor;
            // RESYNC stands in for READY when the server cannot replay: live from here on.
            if (marker) {
              retries = 0;
              entry.setStatus('ready');
              resolveReady();
            }
            if (event.op === 'RESYNC' && handlers.onResync) {
              Promise.resolve()
                .then(() => handlers.onResync?.())
                .catch((error: unknown) => handlers.onError?.(error));
            }
            handlers.onEvent?.(event);
          },
          error: (error) => {
            if (ended) return;
            if (Array.isArray(error) && isRetryable(error as GraphQLErrorShape[])) {
              // The server gave up on this operation only: subscribe again from the cursor.
              entry.setStatus('reconnecting');
              const { minDelay, maxDelay } = this.options;
              retryTimer = setTimeout(() => {
                if (!ended) start();
              }, backoff(retries++, minDelay, maxDelay));
              return;
            }
            fail(Array.isArray(error) ? new GraphQLRequestError(error as GraphQLErrorShape[]) : error);
          },
          complete: () => {
            if (ended) return;
            entry.setStatus('closed');
            this.entries.delete(entry);
            rejectReady(new Error('subscription completed before READY'));
          },
        },
      );
    };
    start();
    return {
      ready,
      get cursor() {
        return cursor;
      },
      get status() {
        return status;
      },
      unsubscribe: () => {
        entry.stop();
        entry.setStatus('closed');
        this.entries.delete(entry);
        dispose();
      },
    };
  }

  /** The same subscription as an async iterator; `return()` (or `break`) unsubscribes. */
  iterate<Row>(doc: Document, field: string, handlers: Omit<LiveHandlers<Row>, 'onEvent'> = {}):
    AsyncIterableIterator<ChangeEvent<Row>> & { subscription: LiveSubscription } {
    const queue: ChangeEvent<Row>[] = [];
    let wake: (() => void) | null = null;
    let failure: { error: unknown } | null = null;
    let finished = false;
    const notify = () => {
      wake?.();
      wake = null;
    };
    const subscription = this.subscribe<Row>(doc, field, {
      ...handlers,
      onEvent: (event) => {
        queue.push(event);
        notify();
      },
      onError: (error) => {
        handlers.onError?.(error);
        if (subscription?.status === 'error') failure = { error };
        notify();
      },
      onStatus: (status) => {
        handlers.onStatus?.(status);
        if (status === 'closed') finished = true;
        notify();
      },
    });
    const iterator = {
      subscription,
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next(): Promise<IteratorResult<ChangeEvent<Row>>> {
        for (;;) {
          const event = queue.shift();
          if (event) return { value: event, done: false };
          if (failure) throw failure.error;
          if (finished) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
      async return(): Promise<IteratorResult<ChangeEvent<Row>>> {
        finished = true;
        subscription.unsubscribe();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }

  /** Reconnect now with the client's current identity; subscriptions resume from their cursors. */
  restart(): void {
    if (this.ws === null) return; // the first connect will read the new identity
    // With subscriptions, reconnect at once; without, just drop an idle (lazily kept) socket.
    if (this.entries.size > 0) this.restarting = true;
    this.ws.terminate();
  }

  async close(): Promise<void> {
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.ws = null;
    for (const entry of this.entries) {
      entry.stop();
      entry.setStatus('closed');
    }
    this.entries.clear();
    await ws?.dispose();
  }
}

