/**
 * qs.live() against a simulated server, under every interleaving fast-check can
 * think of: writes, event deliveries, reads that see the database at one moment
 * and answer later, dropped sockets that resume from the cursor, RESYNC. The
 * simulation renders events as realtime/render.py does (the node is read when the
 * event is delivered; LEFT when a row no longer matches but did before the change)
 * and sorts text by a collation that is not code-point order, as PostgreSQL's
 * en_US does. After quiescence the live rows must equal the query, every time.
 * The same property against a real daphne is test/e2e/live-queryset.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderInput } from '../../src/compile.js';
import type { LiveHandlers, LiveStatus, LiveSubscription } from '../../src/live.js';
import { compareRows, instant, sortKeys } from '../../src/live_order.js';
import { LiveQuerySet, type LiveSnapshot, type LiveSource } from '../../src/live_queryset.js';
import type { ChangeEvent } from '../../src/protocol.js';
import type { ModelMeta, SchemaMeta } from '../../src/types.js';

interface Row {
  id: string;
  title: string;
  rank: number;
  flag: boolean;
  tags: string[];
}

const MODEL: ModelMeta = {
  name: 'Item', pk: 'id', latestBy: [], ordering: [], files: [], relations: {},
  fields: { id: 'ID', title: 'String', rank: 'Int', flag: 'Boolean' },
  roots: {}, inputs: { filter: 'ItemFilter', order: 'ItemOrder' },
};
const SCHEMA: SchemaMeta = { models: { Item: MODEL }, lookups: {} };

/** The database's collation: case-insensitive first, like en_US ("b" < "C"). */
function collate(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

type Filter = (row: Row) => boolean;
const FILTERS: Record<string, Filter> = {
  all: () => true,
  flagged: (row) => row.flag,
  'tagged x': (row) => row.tags.includes('x'),
  'flagged, rank < 5': (row) => row.flag && row.rank < 5,
};
const ORDERINGS: Record<string, OrderInput[]> = {
  rank: [{ rank: 'ASC' }],
  '-rank': [{ rank: 'DESC' }],
  title: [{ title: 'ASC' }],
  '-flag, -title': [{ flag: 'DESC' }, { title: 'DESC' }],
  '-id': [{ id: 'DESC' }],
};

/** ORDER BY as the database runs it (the pk breaks ties, as api_graphql adds it). */
function dbOrder(ordering: OrderInput[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const item of [...ordering, { id: 'ASC' }]) {
      const [field, direction] = Object.entries(item)[0]! as [keyof Row, string];
      const x = a[field];
      const y = b[field];
      const order = field === 'title' ? collate(String(x), String(y))
        : field === 'id' ? Number(x) - Number(y) : Number(x) - Number(y);
      if (order !== 0) return direction === 'DESC' ? -order : order;
    }
    return 0;
  };
}

interface Change {
  seq: number;
  op: 'CREATED' | 'UPDATED' | 'DELETED';
  pk: string;
  matchedBefore: boolean;
  changed: string[] | null;
}

/** The server: a table, its outbox, one subscription, and reads that can be held back. */
class Server {
  rows = new Map<string, Row>();
  outbox: Change[] = [];
  private nextPk = 1;
  // the subscription
  private handlers: LiveHandlers<Row> | null = null;
  private delivered = 0; // cursor: seq of the last change delivered (or skipped)
  connected = true;
  status: LiveStatus = 'connecting';
  /** Reads asked for: first `read` (sees the database), then `answer`. */
  reads: { count: number | undefined; result: Row[] | null; resolve: (rows: Row[]) => void }[] = [];

  constructor(readonly filter: Filter, readonly order: (a: Row, b: Row) => number, readonly maxReplay: number) {
    for (let i = 0; i < 8; i += 1) this.insert({ title: ['a', 'B', 'b', 'C'][i % 4]!, rank: i % 5, flag: i % 3 > 0, tags: i % 2 ? ['x'] : [] }, false);
  }

  query(count?: number): Row[] {
    const rows = [...this.rows.values()].filter(this.filter).sort(this.order).map((r) => structuredClone(r));
    return count === undefined ? rows : rows.slice(0, count);
  }

  private insert(values: Omit<Row, 'id'>, record = true): void {
    const row = { id: String(this.nextPk++), ...values };
    this.rows.set(row.id, row);
    if (record) this.outbox.push({ seq: this.outbox.length + 1, op: 'CREATED', pk: row.id, matchedBefore: false, changed: null });
  }

  create(n: number): void {
    this.insert({ title: ['a', 'B', 'b', 'C', 'ab', 'Ab'][n % 6]!, rank: n % 7, flag: n % 2 === 0, tags: n % 3 === 0 ? ['x'] : [] });
  }

  private pick(n: number): Row | undefined {
    const rows = [...this.rows.values()];
    return rows[n % Math.max(rows.length, 1)];
  }

  update(n: number, field: number): void {
    const row = this.pick(n);
    if (!row) return;
    const before = this.filter(row);
    const name = (['title', 'rank', 'flag', 'tags'] as const)[field % 4]!;
    if (name === 'title') row.title = ['a', 'B', 'b', 'C', 'c', 'ab'][(n + field) % 6]!;
    if (name === 'rank') row.rank = (row.rank + 1 + (n % 5)) % 7;
    if (name === 'flag') row.flag = !row.flag;
    if (name === 'tags') row.tags = row.tags.length ? [] : ['x']; // a many-to-many change
    this.outbox.push({ seq: this.outbox.length + 1, op: 'UPDATED', pk: row.id, matchedBefore: before, changed: n % 5 === 0 ? null : [name] });
  }

  remove(n: number): void {
    const row = this.pick(n);
    if (!row) return;
    this.rows.delete(row.id);
    this.outbox.push({ seq: this.outbox.length + 1, op: 'DELETED', pk: row.id, matchedBefore: this.filter(row), changed: null });
  }

  subscribe(handlers: LiveHandlers<Row>): LiveSubscription {
    this.handlers = handlers;
    this.delivered = this.outbox.length; // subscribed "now": READY follows
    this.setStatus('connecting');
    queueMicrotask(() => this.ready());
    const server = this;
    return {
      ready: Promise.resolve(),
      get cursor() { return String(server.delivered); },
      get status() { return server.status; },
      unsubscribe: () => {
        this.handlers = null;
      },
    };
  }

  private setStatus(status: LiveStatus): void {
    this.status = status;
    this.handlers?.onStatus?.(status);
  }

  private send(event: Omit<ChangeEvent<Row>, 'changed_fields'> & { changed_fields?: string[] | null }): void {
    this.handlers?.onEvent?.({ changed_fields: null, ...event });
  }

  private ready(): void {
    this.setStatus('ready');
    this.send({ op: 'READY', cursor: null, pk: null, node: null });
  }

  /** Render one change at delivery time, as realtime/render.py does. */
  private render(change: Change): void {
    const row = this.rows.get(change.pk);
    const cursor = String(change.seq);
    const changed_fields = change.changed;
    if (change.op !== 'DELETED') {
      if (row && this.filter(row)) {
        this.send({ op: change.op, cursor, pk: change.pk, node: structuredClone(row), changed_fields });
      } else if (change.op === 'UPDATED' && change.matchedBefore) {
        this.send({ op: 'LEFT', cursor, pk: change.pk, node: null, changed_fields });
      }
    } else if (change.matchedBefore) {
      this.send({ op: 'DELETED', cursor, pk: change.pk, node: null });
    }
  }

  pending(): boolean {
    return this.connected && this.delivered < this.outbox.length;
  }

  deliver(): void {
    if (!this.pending()) return;
    const change = this.outbox[this.delivered]!;
    this.delivered = change.seq;
    this.render(change);
  }

  drop(): void {
    if (!this.connected) return;
    this.connected = false;
    this.setStatus('reconnecting');
  }

  /** Re-subscribe with the last cursor: replay (or RESYNC past `maxReplay`), then READY. */
  reconnect(): void {
    if (this.connected) return;
    this.connected = true;
    const missed = this.outbox.length - this.delivered;
    if (missed > this.maxReplay) {
      this.delivered = this.outbox.length;
      this.setStatus('ready');
      this.send({ op: 'RESYNC', cursor: null, pk: null, node: null });
      return;
    }
    while (this.pending()) this.deliver();
    this.ready();
  }

  read(): void {
    const read = this.reads.find((r) => r.result === null);
    if (read) read.result = this.query(read.count);
  }

  answer(): void {
    const at = this.reads.findIndex((r) => r.result !== null);
    if (at < 0) return;
    const [read] = this.reads.splice(at, 1);
    read!.resolve(read!.result!);
  }

  source(ordering: OrderInput[], offset: number | undefined, limit: number | undefined): LiveSource<Row> {
    return {
      schema: SCHEMA, model: MODEL, ordering, offset, limit,
      rows: (count) => new Promise<Row[]>((resolve) => this.reads.push({ count, result: null, resolve })),
      subscribe: (handlers) => this.subscribe(handlers),
    };
  }
}

/** Cases per run (each up to 60 steps); about a millisecond each. */
const CASES = 3000;

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const action = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('create' as const), n: fc.nat(99) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('update' as const), n: fc.nat(99), field: fc.nat(3) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), n: fc.nat(99) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 4 }) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('read' as const) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('answer' as const) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('reconnect' as const) }), weight: 1 },
);

const scenario = fc.record({
  filter: fc.constantFrom(...Object.keys(FILTERS)),
  ordering: fc.constantFrom(...Object.keys(ORDERINGS)),
  limit: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  offset: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  spare: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  maxReplay: fc.integer({ min: 2, max: 30 }),
  actions: fc.array(action, { maxLength: 60 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer V> ? V : never;

export async function runScenario(s: Scenario): Promise<void> {
  const ordering = ORDERINGS[s.ordering]!;
  const server = new Server(FILTERS[s.filter]!, dbOrder(ordering), s.maxReplay);
  const live = new LiveQuerySet<Row>(server.source(ordering, s.offset, s.limit), { spare: s.spare });
  let last: LiveSnapshot<Row> = live.value;
  const stop = live.subscribe((snapshot) => (last = snapshot));
  await flush();
  for (const step of s.actions) {
    if (step.kind === 'create') server.create(step.n);
    if (step.kind === 'update') server.update(step.n, step.field);
    if (step.kind === 'delete') server.remove(step.n);
    if (step.kind === 'deliver') for (let i = 0; i < step.n; i += 1) server.deliver();
    if (step.kind === 'read') server.read();
    if (step.kind === 'answer') server.answer();
    if (step.kind === 'drop') server.drop();
    if (step.kind === 'reconnect') server.reconnect();
    await flush();
  }
  // Quiescence: the socket back, every event delivered, every read answered.
  server.reconnect();
  for (let guard = 0; server.pending() || server.reads.length > 0; guard += 1) {
    if (guard > 1000) throw new Error('the live result keeps reading');
    server.deliver();
    server.read();
    server.answer();
    await flush();
  }
  const all = server.query();
  const start = s.offset ?? 0;
  const expected = all.slice(start, s.limit === undefined ? undefined : start + s.limit);
  expect(last.rows).toEqual(expected);
  expect(last).toMatchObject({ loading: false, refreshing: false, error: null, status: 'ready' });
  stop();
}

describe('qs.live() against a simulated server', () => {
  it('equals the query after quiescence, whatever the interleaving', async () => {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { numRuns: CASES });
  }, 120_000);

  it('a change to a row in place neither reads nor moves; a removal is filled from the spare rows', async () => {
    const ordering = ORDERINGS.rank!;
    const server = new Server(FILTERS.all!, dbOrder(ordering), 10);
    const live = new LiveQuerySet<Row>(server.source(ordering, undefined, 3), { spare: 2 });
    const seen: LiveSnapshot<Row>[] = [];
    const stop = live.subscribe((s) => seen.push(s));
    await flush();
    expect(server.reads).toHaveLength(1);
    expect(server.reads[0]!.count).toBe(5); // window 3 + 2 spare
    server.read();
    server.answer();
    await flush();
    const before = live.value.rows.map((r) => r.id);
    expect(before).toEqual(server.query(3).map((r) => r.id));
    // Title is not an order field: UPDATED replaces the row where it is.
    const first = server.rows.get(before[0]!)!;
    first.title = 'renamed';
    server.outbox.push({ seq: server.outbox.length + 1, op: 'UPDATED', pk: first.id, matchedBefore: true, changed: ['title'] });
    server.deliver();
    await flush();
    expect(live.value.rows[0]!.title).toBe('renamed');
    expect(server.reads).toHaveLength(0);
    // Two deletions: the spare rows fill the window, no read.
    server.remove(0);
    server.deliver();
    await flush();
    server.remove(0);
    server.deliver();
    await flush();
    expect(server.reads).toHaveLength(0);
    expect(live.value.rows.map((r) => r.id)).toEqual(server.query(3).map((r) => r.id));
    // A third: no spare left, so the window is read again.
    server.remove(0);
    server.deliver();
    await flush();
    expect(server.reads).toHaveLength(1);
    expect(live.value.refreshing).toBe(true);
    server.read();
    server.answer();
    await flush();
    expect(live.value.rows.map((r) => r.id)).toEqual(server.query(3).map((r) => r.id));
    expect(seen[0]).toMatchObject({ loading: true, status: 'connecting' });
    stop();
  });

  it('text is placed by a guess and confirmed by a read; numbers are placed without one', async () => {
    for (const [name, reads] of [['rank', 0], ['title', 1]] as const) {
      const ordering = ORDERINGS[name]!;
      const server = new Server(FILTERS.all!, dbOrder(ordering), 10);
      const live = new LiveQuerySet<Row>(server.source(ordering, undefined, 4));
      const stop = live.subscribe(() => undefined);
      await flush();
      server.read();
      server.answer();
      await flush();
      server.create(1);
      server.deliver();
      await flush();
      expect(server.reads, name).toHaveLength(reads);
      stop();
    }
  });
});

describe('sort keys', () => {
  const keys = sortKeys(SCHEMA, MODEL, [{ flag: 'DESC' }, { rank: 'ASC_NULLS_FIRST' }]);

  it('append the pk, as the server does', () => {
    expect(keys.map((k) => k.path.join('__'))).toEqual(['flag', 'rank', 'id']);
  });

  it('compare what the database provably agrees with, and nothing else', () => {
    const row = (flag: boolean | null, rank: number | null, id = '1', title = 'a') => ({ flag, rank, id, title });
    expect(compareRows(keys, row(true, 1), row(false, 0))).toBe(-1); // DESC
    expect(compareRows(keys, row(true, 2), row(true, 10))).toBe(-1);
    expect(compareRows(keys, row(true, null), row(true, 0))).toBe(-1); // NULLS FIRST, said by the query
    expect(compareRows(keys, row(null, 0), row(true, 0))).toBe('uncertain'); // nulls: the database decides
    expect(compareRows(keys, row(true, 1, '9'), row(true, 1, '10'))).toBe(-1); // integer pks, not text
    const byTitle = sortKeys(SCHEMA, MODEL, [{ title: 'ASC' }]);
    expect(compareRows(byTitle, row(true, 1, '1', 'b'), row(true, 1, '2', 'C'))).toBe('uncertain');
    expect(compareRows(byTitle, row(true, 1, '1', 'same'), row(true, 1, '2', 'same'))).toBe(-1); // equal text ties
    expect(compareRows(byTitle, { id: '1' }, { id: '2', title: 'x' })).toBe('uncertain'); // not selected
  });

  it('read date-times to the nanosecond, whatever the offset', () => {
    expect(instant('2024-05-01T12:00:00.000001+00:00')! - instant('2024-05-01T12:00:00+00:00')!).toBe(1000n);
    expect(instant('2024-05-01T14:00:00+02:00')).toBe(instant('2024-05-01T12:00:00Z'));
    expect(instant('2024-05-01')).toBe(instant('2024-05-01T00:00:00Z'));
    expect(instant('not a date')).toBeNull();
  });
});
