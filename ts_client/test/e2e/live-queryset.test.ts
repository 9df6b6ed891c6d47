/**
 * qs.live() against a real daphne: fast-check generates a query (filter, exclude,
 * order_by, offset, limit, selection) and a sequence of writes made through the
 * ORM by another Django process (live_writes.py: creates, updates that move rows
 * in and out of the filter and across the window, deletes, QuerySet.update,
 * many-to-many changes from either side), interleaved with pauses, sockets
 * dropped by the client and one server restart in some cases. At quiescence the
 * live rows must equal a fresh read of the same query, and their pks the ORM's
 * answer, every time. The same property under every interleaving of a simulated
 * server is test/unit/live-queryset.test.ts.
 *
 * Quiescence is an event, not a wait: the run's sentinel row (matching the filter,
 * never written by the case) is touched once the writes are done, and the server
 * delivers a subscription's events in order, so its UPDATED means every earlier
 * change was delivered; then the live result must have finished its reads.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Article, type ArticleKwargs, type ArticleOrderKey } from '../../src/generated/models.js';
import type { ChangeEvent, Client, LiveStatus } from '../../src/index.js';
import type { LiveQueryOptions, LiveQuerySet, LiveSnapshot } from '../../src/live_queryset.js';
import type { OrderBy } from '../../src/types.js';
import { clientAs, pythonSession, unique, until } from './helpers.js';
import { startDaphne, type Daphne } from './server.js';

/** Cases per run; each is 8 to ACTIONS steps after up to 6 seeded rows. */
const RUNS = 20;
const ACTIONS = 30;

interface Query {
  filter: (prefix: string) => ArticleKwargs;
  /** A second filter() call (Django joins a to-many relation again for it). */
  then?: (prefix: string) => ArticleKwargs;
  exclude?: ArticleKwargs;
  /** What the sentinel row must be to match. */
  sentinel: { published: boolean; tagged: boolean };
}
const QUERIES: Record<string, Query> = {
  'the run': { filter: (p) => ({ title__startswith: p }), sentinel: { published: false, tagged: false } },
  published: { filter: (p) => ({ title__startswith: p, published: true }), sentinel: { published: true, tagged: false } },
  // A many-to-many lookup: a row enters and leaves as the tag is added and removed.
  tagged: { filter: (p) => ({ title__startswith: p, tags__name: p }), sentinel: { published: false, tagged: true } },
  'published and tagged': {
    filter: (p) => ({ title__startswith: p, tags__name: p, published: true }), sentinel: { published: true, tagged: true },
  },
  drafts: { filter: (p) => ({ title__startswith: p }), exclude: { published: true }, sentinel: { published: false, tagged: false } },
  'tagged, chained': {
    filter: (p) => ({ title__startswith: p }), then: (p) => ({ tags__name: p }), sentinel: { published: false, tagged: true },
  },
};

type Order = OrderBy<ArticleOrderKey>;
/** [] is the model's Meta.ordering (-created_at). Text orders by the database's collation. */
const ORDERINGS: Order[][] = [
  [], ['title'], ['-title'], ['-created_at'], ['created_at', '-title'], ['-published', 'title'],
  ['author__username', '-id'], ['-title_length', 'title'],
];
const SELECTIONS = ['objects', 'values', 'select_related'] as const;

const write = (op: string, weight: number) => ({
  arbitrary: fc.record({ kind: fc.constant('write' as const), op: fc.constant(op), n: fc.nat(99), v: fc.nat(99) }),
  weight,
});
const action = fc.oneof(
  write('create', 4), write('retitle', 3), write('out', 2), write('publish', 3), write('redate', 2),
  write('reauthor', 1), write('tag', 3), write('delete', 2), write('bulk', 1),
  { arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 5, max: 300 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const) }), weight: 1 },
);

const scenario = fc.record({
  query: fc.constantFrom(...Object.keys(QUERIES)),
  ordering: fc.constantFrom(...ORDERINGS),
  selection: fc.constantFrom(...SELECTIONS),
  offset: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  spare: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  seed: fc.array(fc.record({ n: fc.nat(99), v: fc.nat(99) }), { minLength: 1, maxLength: 6 }),
  actions: fc.array(action, { minLength: 8, maxLength: ACTIONS }),
  /**
   * Restart the server before this step (modulo the steps there are), in one case in
   * eight: a restart costs seconds, the rest of a case well under one.
   */
  restartAt: fc.oneof({ arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: fc.nat(ACTIONS), weight: 1 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer V> ? V : never;

const w = (op: string, n: number, v = 0) => ({ kind: 'write' as const, op, n, v });
/** The case run first, whatever the random ones draw: a dropped socket and a server restart. */
const EVERY_PATH: Scenario = {
  query: 'tagged', ordering: ['-created_at'], selection: 'objects', offset: undefined, limit: 3, spare: 1,
  seed: [{ n: 0, v: 1 }, { n: 3, v: 2 }, { n: 6, v: 3 }],
  actions: [{ kind: 'drop' }, w('create', 9), w('tag', 1), w('out', 0), w('redate', 2, 3), w('delete', 1),
    { kind: 'pause', ms: 50 }, w('tag', 0, 1), w('create', 12), w('bulk', 1, 1)],
  restartAt: 5,
};

/** The sockets the client opened, so a case can drop one. */
const sockets: WebSocket[] = [];
class Recorded extends WebSocket {
  constructor(address: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
    super(address, protocols, options);
    sockets.push(this);
  }
}

/** Drop the open socket as a network failure would (no close frame); whether there was one. */
function dropSocket(): boolean {
  const open = sockets.filter((socket) => socket.readyState === WebSocket.OPEN);
  for (const socket of open) socket.terminate();
  return open.length > 0;
}

let daphne: Daphne;
let editor: Client;
beforeAll(async () => {
  // A server of its own: a case may restart it.
  daphne = await startDaphne();
  editor = await clientAs('editor', { url: daphne.url, WebSocket: Recorded as typeof WebSocket });
});
afterAll(async () => {
  await editor?.close();
  await daphne?.stop();
});
const py = pythonSession('import json\nfrom live_writes import Run');

/** Python statements calling `fn` with JSON-encoded arguments (JSON is not Python: true, null). */
const call = (fn: string, ...args: unknown[]) => `${fn}(*json.loads(${JSON.stringify(JSON.stringify(args))}))`;

type Row = Record<string, unknown>;
/** What the test compares: the row's own values, and its author's username where selected. */
function view(row: Row): Row {
  const { id, title, published, created_at, content, title_length, author } = row;
  const username = typeof author === 'object' && author !== null ? (author as Row).username : undefined;
  return Object.fromEntries(Object.entries({ id, title, published, created_at, content, title_length, username })
    .filter(([, value]) => value !== undefined));
}

/** A queryset of any selection, seen as plain rows. */
interface Target {
  read(): Promise<Row[]>;
  live(options: LiveQueryOptions<Row>): LiveQuerySet<Row>;
}
function target<R>(qs: PromiseLike<R[]> & { live(options: LiveQueryOptions<R>): LiveQuerySet<R> }): Target {
  return {
    read: async () => (await qs) as Row[],
    live: (options) => qs.live(options as LiveQueryOptions<R>) as unknown as LiveQuerySet<Row>,
  };
}

/** The case's queryset, as a front end would write it. */
function queryset(s: Scenario, prefix: string): Target {
  const query = QUERIES[s.query]!;
  let qs = Article.objects.using(editor).filter(query.filter(prefix));
  if (query.then) qs = qs.filter(query.then(prefix));
  if (query.exclude) qs = qs.exclude(query.exclude);
  if (s.ordering.length) qs = qs.order_by(...s.ordering);
  if (s.offset !== undefined) qs = qs.offset(s.offset);
  if (s.limit !== undefined) qs = qs.limit(s.limit);
  if (s.selection === 'values') return target(qs.values('id', 'title'));
  if (s.selection === 'select_related') return target(qs.select_related('author'));
  return target(qs);
}

const stats = { runs: 0, writes: 0, drops: 0, restarts: 0, reconnects: 0 };

async function runCase(s: Scenario): Promise<void> {
  const prefix = unique('lq');
  const query = QUERIES[s.query]!;
  const sentinel = String(await py.run<number>(`run = ${call('Run', prefix, query.sentinel)}\nresult = run.sentinel`));
  for (const { n, v } of s.seed) await py.run(call('run.apply', 'create', n, v));

  const qs = queryset(s, prefix);
  const touches: ChangeEvent<Row>[] = [];
  /** What the live result was told, for the failure message. */
  const told: string[] = [];
  const live = qs.live({
    spare: s.spare,
    onEvent: (event) => {
      told.push(`${event.op} ${event.pk} @${event.cursor}`);
      if (event.pk === sentinel) touches.push(event);
    },
  });
  const statuses: (LiveStatus | 'idle')[] = [];
  let last: LiveSnapshot<Row> = live.value;
  const stop = live.subscribe((snapshot) => {
    last = snapshot;
    if (statuses.at(-1) !== snapshot.status) statuses.push(snapshot.status);
  });
  let dropped = false;
  try {
    await until(() => !last.loading && !last.refreshing && last.status === 'ready', 20_000, 'the first read');
    const restartAt = s.restartAt === undefined ? -1 : s.restartAt % s.actions.length;
    for (const [step, a] of s.actions.entries()) {
      if (step === restartAt) {
        const port = daphne.port;
        await daphne.stop();
        daphne = await startDaphne(port);
        stats.restarts += 1;
        dropped = true;
      }
      if (a.kind === 'write') {
        await py.run(call('run.apply', a.op, a.n, a.v));
        stats.writes += 1;
      } else if (a.kind === 'pause') {
        await new Promise((resolve) => setTimeout(resolve, a.ms));
      } else if (dropSocket()) {
        stats.drops += 1;
        dropped = true;
      }
    }
    // Quiescence: touch the sentinel until its event arrives (a RESYNC may skip one),
    // then wait for the reads it or earlier events asked for.
    for (let attempt = 0; ; attempt += 1) {
      const before = touches.length;
      await py.run('run.touch()');
      try {
        await until(() => touches.length > before, 5_000, 'the sentinel event');
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    await until(() => !last.refreshing && last.status === 'ready', 20_000, 'the reads to finish');

    const fresh = await qs.read();
    const orm = await py.run<string[]>(`result = ${call('run.window', query.filter(prefix), query.then?.(prefix) ?? {},
      query.exclude ?? {}, s.ordering, s.offset ?? 0, s.limit ?? null)}`);
    const why = `${prefix}, sentinel ${sentinel}, events: ${told.join(', ')}; statuses: ${statuses.join(' ')}`;
    expect(last.rows.map(view), why).toEqual(fresh.map(view));
    expect(last.rows.map((row) => String(row.id)), why).toEqual(orm);
    expect(last.error).toBeNull();
    if (dropped) {
      expect(statuses).toContain('reconnecting');
      stats.reconnects += 1;
    }
    stats.runs += 1;
  } finally {
    stop();
  }
}

describe('qs.live() against a real daphne', () => {
  it('equals a fresh query after quiescence, whatever the writes and reconnects', async () => {
    await fc.assert(fc.asyncProperty(scenario, runCase), { numRuns: RUNS, endOnFailure: true, examples: [[EVERY_PATH]] });
    // What the note reports, and proof that the cases did reach the reconnect paths.
    console.info(`live-queryset: ${JSON.stringify(stats)}`);
    expect(stats.runs).toBe(RUNS);
    expect(stats.drops).toBeGreaterThan(0);
    expect(stats.restarts).toBeGreaterThan(0);
  }, 600_000);
});
