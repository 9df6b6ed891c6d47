/**
 * The reconnect logic against a fake WebSocket that plays the server's side of
 * graphql-transport-ws: resume with the last cursor, duplicate suppression, retries
 * beyond graphql-ws's default five, pong timeout, restart on identity change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Article } from '../../src/generated/models.js';
import { backoff, createClient, isRetryable, type ChangeEvent, type Client, type LiveStatus } from '../../src/index.js';

type Message = { type: string; id?: string; payload?: any };

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static sockets: FakeSocket[] = [];
  /** Sockets to refuse (closed with 1006 as soon as they open). */
  static refuse = 0;
  /** Whether the server answers pings. */
  static answerPings = true;

  readyState = FakeSocket.CONNECTING;
  protocol: string;
  sent: Message[] = [];
  closedWith: number | null = null;
  onopen: ((e: unknown) => void) | null = null;
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;

  constructor(readonly url: string, protocol: string, readonly options?: { headers?: Record<string, string> }) {
    this.protocol = protocol;
    FakeSocket.sockets.push(this);
    setTimeout(() => {
      if (FakeSocket.refuse > 0) {
        FakeSocket.refuse -= 1;
        this.drop();
        return;
      }
      this.readyState = FakeSocket.OPEN;
      this.onopen?.({});
    }, 1);
  }

  send(data: string): void {
    const message = JSON.parse(data) as Message;
    this.sent.push(message);
    if (message.type === 'connection_init') this.reply({ type: 'connection_ack' });
    if (message.type === 'ping' && FakeSocket.answerPings) this.reply({ type: 'pong' });
  }

  reply(message: Message): void {
    setTimeout(() => this.readyState === FakeSocket.OPEN && this.onmessage?.({ data: JSON.stringify(message) }), 1);
  }

  /** The server sends one change event to the (only) subscription on this socket. */
  event(op: string, cursor: string | null, pk: string | null = null): void {
    const id = this.subscribes()[0]!.id!;
    const node = pk ? { id: pk, title: `t${pk}` } : null;
    this.reply({ type: 'next', id, payload: { data: { article_changes: { op, cursor, pk, node, changed_fields: null } } } });
  }

  subscribes(): Message[] {
    return this.sent.filter((m) => m.type === 'subscribe');
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.closedWith = code;
    this.readyState = FakeSocket.CLOSED;
    setTimeout(() => this.onclose?.({ code, reason, wasClean: true }), 1);
  }

  /** The network goes away: no close frame. */
  drop(): void {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code: 1006, reason: '', wasClean: false });
  }
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let client: Client;
function fakeClient(live = {}): Client {
  client = createClient({
    url: 'http://fake.test/graphql',
    WebSocket: FakeSocket,
    live: { minDelay: 1, maxDelay: 5, keepAlive: 0, ...live },
  });
  return client;
}

function watch(c: Client) {
  const events: ChangeEvent<unknown>[] = [];
  const statuses: LiveStatus[] = [];
  let resyncs = 0;
  const sub = Article.objects.using(c).values('id', 'title').subscribe({
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    onResync: () => {
      resyncs += 1;
    },
  });
  return { sub, events, statuses, resyncs: () => resyncs, ops: () => events.map((e) => `${e.op}:${e.cursor}`) };
}

afterEach(async () => {
  await client?.close();
  FakeSocket.sockets = [];
  FakeSocket.refuse = 0;
  FakeSocket.answerPings = true;
});

describe('backoff', () => {
  it('is jittered between half and all of the ceiling, which doubles and is capped', () => {
    expect(backoff(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoff(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoff(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoff(20, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoff(1000, 500, 30_000, () => 0)).toBe(15_000);
    const samples = Array.from({ length: 50 }, () => backoff(2, 500, 30_000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(2000);
    expect(new Set(samples).size).toBeGreaterThan(1);
  });
});

describe('live socket', () => {
  it('resumes from the last cursor after a drop and drops a replayed duplicate', async () => {
    const w = watch(fakeClient());
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 1, 'subscribe');
    const first = FakeSocket.sockets[0]!;
    const subscribe = first.subscribes()[0]!;
    expect(subscribe.payload.query).toMatch(/^subscription article_changes\(\$after: String\)/);
    expect(subscribe.payload.variables).toEqual({});
    first.event('READY', '10');
    first.event('CREATED', '11', '1');
    await until(() => w.events.length === 2, 'events');
    await w.sub.ready;

    first.drop();
    await until(() => FakeSocket.sockets[1]?.subscribes().length === 1, 'resubscribe');
    const second = FakeSocket.sockets[1]!;
    const again = second.subscribes()[0]!;
    expect(again.payload.variables).toEqual({ after: '11' });
    expect(again.id).toBe(subscribe.id);
    second.event('CREATED', '11', '1'); // overlaps what we saw: dropped
    second.event('UPDATED', '12', '1');
    second.event('READY', '12');
    await until(() => w.events.length === 4, 'replay');
    expect(w.ops()).toEqual(['READY:10', 'CREATED:11', 'UPDATED:12', 'READY:12']);
    expect(w.statuses).toEqual(['connecting', 'ready', 'reconnecting', 'ready']);
    expect(w.sub.cursor).toBe('12');
    expect(FakeSocket.sockets).toHaveLength(2);
  });

  it('keeps retrying past graphql-ws default of five attempts', async () => {
    FakeSocket.refuse = 8;
    const w = watch(fakeClient());
    await until(() => FakeSocket.sockets.at(-1)!.subscribes().length === 1, 'a socket that stays');
    expect(FakeSocket.sockets).toHaveLength(9);
    FakeSocket.sockets.at(-1)!.event('READY', '1');
    await w.sub.ready;
  });

  it('drops a socket whose pong does not come and reconnects', async () => {
    FakeSocket.answerPings = false;
    const w = watch(fakeClient({ keepAlive: 5, pongTimeout: 10 }));
    await until(() => FakeSocket.sockets.length >= 2, 'a second socket');
    const first = FakeSocket.sockets[0]!;
    expect(first.sent.some((m) => m.type === 'ping')).toBe(true);
    expect(first.closedWith).toBe(4499); // graphql-ws terminate()
    FakeSocket.answerPings = true;
    await until(() => FakeSocket.sockets.at(-1)!.subscribes().length === 1, 'resubscribe');
    expect(w.statuses).toContain('reconnecting');
  });

  it('restarts with the new token when it changes; one socket serves many subscriptions', async () => {
    const c = fakeClient();
    const a = watch(c);
    const b = watch(c);
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 2, 'two subscribes');
    expect(FakeSocket.sockets).toHaveLength(1);
    expect(FakeSocket.sockets[0]!.sent[0]).toEqual({ type: 'connection_init', payload: {} });
    FakeSocket.sockets[0]!.event('READY', '5');
    await until(() => a.events.length === 1, 'READY');
    c.setToken('t2');
    await until(() => FakeSocket.sockets[1]?.subscribes().length === 2, 'restart');
    expect(FakeSocket.sockets[1]!.sent[0]).toEqual({ type: 'connection_init', payload: { authorization: 'Bearer t2' } });
    expect(FakeSocket.sockets[1]!.subscribes()[0]!.payload.variables).toEqual({ after: '5' });
    expect(FakeSocket.sockets).toHaveLength(2);
    expect(b.statuses).toEqual(['connecting', 'reconnecting']);
  });

  it('a 4403 close (expired token) calls onForbidden, then reconnects with the refreshed token', async () => {
    let c!: Client;
    c = fakeClient({ onForbidden: () => c.setToken('fresh') });
    const w = watch(c);
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 1, 'subscribe');
    FakeSocket.sockets[0]!.event('READY', '3');
    await w.sub.ready;
    FakeSocket.sockets[0]!.close(4403, 'Forbidden');
    await until(() => FakeSocket.sockets.at(-1)!.subscribes().length === 1 && FakeSocket.sockets.length >= 2, 'reconnect');
    expect(FakeSocket.sockets.at(-1)!.sent[0]).toEqual({ type: 'connection_init', payload: { authorization: 'Bearer fresh' } });
    expect(FakeSocket.sockets.at(-1)!.subscribes()[0]!.payload.variables).toEqual({ after: '3' });
  });

  it('RESYNC calls the refetch hook and counts as ready', async () => {
    const w = watch(fakeClient());
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 1, 'subscribe');
    FakeSocket.sockets[0]!.event('RESYNC', '40');
    await w.sub.ready;
    await until(() => w.resyncs() === 1, 'refetch hook');
    expect(w.sub.status).toBe('ready');
    expect(w.sub.cursor).toBe('40');
  });

  it('an operation error ends the subscription with onError', async () => {
    const c = fakeClient();
    const errors: unknown[] = [];
    const sub = Article.objects.using(c).subscribe({ onError: (e) => errors.push(e) });
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 1, 'subscribe');
    const socket = FakeSocket.sockets[0]!;
    socket.reply({ type: 'error', id: socket.subscribes()[0]!.id, payload: [{ message: 'nope', extensions: { code: 'FORBIDDEN' } }] });
    await expect(sub.ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(sub.status).toBe('error');
    expect(errors).toHaveLength(1);
  });

  it('a retryable server error resubscribes from the last cursor, with status reconnecting', async () => {
    const w = watch(fakeClient());
    const subscribes = () => FakeSocket.sockets.flatMap((socket) => socket.subscribes().map((m) => ({ socket, m })));
    const answer = (op: string, cursor: string, pk: string | null = null) => {
      const { socket, m } = subscribes().at(-1)!;
      socket.reply({ type: 'next', id: m.id, payload: { data: { article_changes: { op, cursor, pk, node: null, changed_fields: null } } } });
    };
    const refuse = (code: string) => {
      const { socket, m } = subscribes().at(-1)!;
      socket.reply({ type: 'error', id: m.id, payload: [{ message: code, extensions: { code } }] });
    };
    await until(() => subscribes().length === 1, 'subscribe');
    answer('READY', '7');
    answer('CREATED', '8', '1');
    await until(() => w.events.length === 2, 'events');
    refuse('UNAVAILABLE');
    await until(() => subscribes().length === 2, 'resubscribe');
    expect(subscribes()[1]!.m.payload.variables).toEqual({ after: '8' });
    expect(w.sub.status).toBe('reconnecting');
    refuse('INTERNAL_SERVER_ERROR');
    await until(() => subscribes().length === 3, 'second resubscribe');
    expect(subscribes()[2]!.m.payload.variables).toEqual({ after: '8' });
    answer('UPDATED', '9', '1');
    answer('READY', '9');
    await until(() => w.events.length === 4, 'replay');
    expect(w.ops()).toEqual(['READY:7', 'CREATED:8', 'UPDATED:9', 'READY:9']);
    expect(w.statuses).toEqual(['connecting', 'ready', 'reconnecting', 'ready']);
    expect(w.sub.status).toBe('ready');
  });

  it('unsubscribing while a resubscribe waits for its backoff ends it for good', async () => {
    const w = watch(fakeClient({ minDelay: 50, maxDelay: 50 }));
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 1, 'subscribe');
    const socket = FakeSocket.sockets[0]!;
    socket.reply({ type: 'error', id: socket.subscribes()[0]!.id, payload: [{ message: 'x', extensions: { code: 'UNAVAILABLE' } }] });
    await until(() => w.statuses.includes('reconnecting'), 'reconnecting');
    w.sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 80));
    expect(socket.subscribes()).toHaveLength(1);
    expect(w.sub.status).toBe('closed');
  });

  it('isRetryable: server failures and unavailability, not refusals', () => {
    expect(isRetryable([{ message: 'x', extensions: { code: 'UNAVAILABLE' } }])).toBe(true);
    expect(isRetryable([{ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }])).toBe(true);
    expect(isRetryable([{ message: 'x' }])).toBe(true);
    expect(isRetryable([{ message: 'x', extensions: { code: 'FORBIDDEN' } }])).toBe(false);
    expect(isRetryable([{ message: 'x', extensions: { code: 'BAD_USER_INPUT' } }])).toBe(false);
    expect(isRetryable([])).toBe(false);
  });

  it('unsubscribe sends complete and closes the idle socket', async () => {
    const w = watch(fakeClient());
    await until(() => FakeSocket.sockets[0]?.subscribes().length === 1, 'subscribe');
    w.sub.unsubscribe();
    const socket = FakeSocket.sockets[0]!;
    expect(socket.sent.at(-1)).toEqual({ type: 'complete', id: socket.subscribes()[0]!.id });
    await until(() => socket.closedWith === 1000, 'lazy close');
    expect(w.sub.status).toBe('closed');
  });
});
