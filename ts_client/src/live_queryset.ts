/**
 * `qs.live()`: a result set kept equal to its query as changes commit.
 *
 * It subscribes to the queryset's change stream first, reads the rows once the
 * subscription is READY (so nothing can fall between the read and the first
 * event), then follows the events (research/capture-logic-frontend.md §4):
 * - CREATED and UPDATED place the row where the ORDER BY puts it (live_order.ts);
 *   a row that sorts past the last row held has left the window.
 * - DELETED and LEFT free a slot. A few spare rows past the window fill it at
 *   once; when they run out the window is read again from the server.
 * - Where only the database can order two rows (text by its collation, nulls, an
 *   unselected order field), the row is placed by a guess and the window is read
 *   again to put it right.
 * - RESYNC (the server could not replay a long absence) and a change of identity
 *   (login, logout: what the user may see changed) read the window again.
 * - After a dropped socket, live.ts resumes from the last cursor: the missed
 *   events arrive in order and are applied like any other.
 * Events that arrive while the window is being read are applied at once, and the
 * last one of each row again over the rows read, so the result converges
 * whatever the interleaving.
 *
 * It is a plain store (the Svelte contract: `subscribe(fn)` calls `fn` with the
 * current value and on every change, and returns the unsubscribe), so any
 * framework can use it; react/ wraps it in hooks. It runs while it has
 * subscribers, or between `start()` and `close()`.
 */
import type { Client } from './client.js';
import type { OrderInput } from './compile.js';
import type { LiveHandlers, LiveStatus, LiveSubscription } from './live.js';
import { compareRows, guessRows, sortKeys, valueAt, type SortKey } from './live_order.js';
import type { ChangeEvent } from './protocol.js';
import type { ModelMeta, SchemaMeta } from './types.js';

export interface LiveQueryOptions<Row = unknown> {
  /**
   * Rows held past the window, so a row that leaves is replaced without a read.
   * Default: the window's size, at most 20.
   */
  spare?: number;
  /** Every change event applied, in order (e.g. to highlight a row). */
  onEvent?(event: ChangeEvent<Row>): void;
}

/** What a live result shows at one moment. A new object whenever anything in it changes. */
export interface LiveSnapshot<Row> {
  /** The query's rows now: `offset`/`limit` applied. */
  readonly rows: readonly Row[];
  /** No rows read yet. */
  readonly loading: boolean;
  /** The window is being read again (after RESYNC, a slot to refill, an order to confirm). */
  readonly refreshing: boolean;
  /** The last failure (a read, or a refused subscription); null once a read succeeds. */
  readonly error: unknown;
  /** The change stream's state. */
  readonly status: LiveStatus | 'idle';
}

/** What a live result needs from its queryset; `qs.live()` builds it, tests fake it. */
export interface LiveSource<Row> {
  schema: SchemaMeta;
  model: ModelMeta;
  /** The queryset's ordering, compiled (the pk is appended for comparisons). */
  ordering: readonly OrderInput[];
  offset: number | undefined;
  limit: number | undefined;
  /** The first `count` rows of the query without its slice (every row when undefined). */
  rows(count: number | undefined): Promise<Row[]>;
  subscribe(handlers: LiveHandlers<Row>): LiveSubscription;
  /** The client whose identity changes (login, logout) call for a fresh read. */
  client?: Client | null;
  /** Identifies the query: two live results with the same key show the same rows. */
  key?: string;
}

export type Listener<Row> = (snapshot: LiveSnapshot<Row>) => void;

const clientIds = new WeakMap<Client, number>();
let clients = 0;

/** The query's key, with the client it runs on (the same query on two servers differs). */
function keyOf(source: LiveSource<unknown>): string {
  const client = source.client;
  if (!client) return source.key ?? '';
  if (!clientIds.has(client)) clientIds.set(client, (clients += 1));
  return `${clientIds.get(client)}:${source.key ?? ''}`;
}

/** The fields two changes touched together; null (unknown) if either does not say. */
function unionOf(a: string[] | null, b: string[] | null): string[] | null {
  return a === null || b === null ? null : [...new Set([...a, ...b])];
}

const RETRY_MIN = 500;
const RETRY_MAX = 30_000;

export class LiveQuerySet<Row> {
  /** Identifies the query (document, variables, client), for caches and hooks. */
  readonly key: string;
  private readonly keys: SortKey[];
  private readonly pk: string;
  private readonly start_: number;
  /** Where the visible rows end in `held`; Infinity without a limit. */
  private readonly end: number;
  /** How many rows to hold: the window, the rows before it (offset) and the spare. */
  private readonly capacity: number;

  /** The query's first rows, in order: rows before the window, the window, spare rows. */
  private held: Row[] = [];
  /** `held` is every matching row (a read returned fewer than asked). */
  private complete = false;
  private snapshot_: LiveSnapshot<Row> = { rows: [], loading: true, refreshing: false, error: null, status: 'idle' };
  private readonly listeners = new Set<Listener<Row>>();
  private subscription: LiveSubscription | null = null;
  private stopIdentity: (() => void) | null = null;
  /** Events received during the current read, replayed over its rows. */
  private duringRead: ChangeEvent<Row>[] | null = null;
  /** Another read is due after the current one. */
  private readAgain = false;
  /** A read to do once the stream is READY (first load, identity change, failed read). */
  private readOnReady = true;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly source: LiveSource<Row>,
    private readonly options: LiveQueryOptions<Row> = {},
  ) {
    this.keys = sortKeys(source.schema, source.model, source.ordering);
    this.pk = source.model.pk;
    this.key = keyOf(source as LiveSource<unknown>);
    this.start_ = source.offset ?? 0;
    this.end = source.limit === undefined ? Infinity : this.start_ + source.limit;
    const spare = options.spare ?? Math.min(source.limit ?? 0, 20);
    this.capacity = this.end + spare;
  }

  /** The current rows and state. */
  get value(): LiveSnapshot<Row> {
    return this.snapshot_;
  }

  /**
   * Svelte's store contract: `fn` now and on every change; returns the unsubscribe.
   * The first subscriber starts the live result, the last one's leaving stops it
   * (after a turn of the event loop, so React's double mount reuses it).
   */
  subscribe(listener: Listener<Row>): () => void {
    this.listeners.add(listener);
    clearTimeout(this.stopTimer);
    this.start();
    listener(this.snapshot_);
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.stopTimer = setTimeout(() => this.listeners.size === 0 && this.close(), 0);
    };
  }

  /** Resolves with the first snapshot that satisfies `predicate` (default: rows read, nothing pending). */
  settled(predicate: (s: LiveSnapshot<Row>) => boolean = (s) => !s.loading && !s.refreshing): Promise<LiveSnapshot<Row>> {
    return new Promise((resolve) => {
      const stop = this.subscribe((snapshot) => {
        if (!predicate(snapshot)) return;
        queueMicrotask(() => stop());
        resolve(snapshot);
      });
    });
  }

  /** Start following the query (subscribing does this by itself). */
  start(): void {
    if (this.running) return;
    this.running = true;
    // Restarted after close(): resume from the cursor; the server replays what was
    // missed (or sends RESYNC, which reads), so only a first start must read.
    this.readOnReady = this.snapshot_.loading;
    this.stopIdentity = this.source.client?.onIdentityChange(() => {
      this.readOnReady = true; // the socket restarts; read once it is READY with the new user
    }) ?? null;
    this.subscription = this.source.subscribe({
      after: this.subscription?.cursor ?? null,
      onEvent: (event) => this.receive(event),
      onStatus: (status) => this.update({ status }),
      onError: (error) => this.update({ error, loading: false }),
    });
  }

  /** Stop following (the rows stay as they are); `start()` or a subscriber resumes from the cursor. */
  close(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.retryTimer);
    this.stopIdentity?.();
    this.stopIdentity = null;
    this.subscription?.unsubscribe();
    this.update({ status: 'closed' });
  }

  /** Read the window again now (e.g. a "refresh" button). */
  refresh(): Promise<void> {
    return this.read();
  }

  private receive(event: ChangeEvent<Row>): void {
    if (event.op === 'READY' || event.op === 'RESYNC') {
      if (event.op === 'RESYNC' || this.readOnReady) void this.read();
      return;
    }
    const reading = this.duringRead !== null;
    this.duringRead?.push(event);
    // During a read `held` is about to be replaced: show the change now, and let
    // the replay over the rows read decide whether another read is needed.
    const incomplete = this.apply(event);
    this.publish();
    this.options.onEvent?.(event);
    if (incomplete && !reading && !this.snapshot_.loading) void this.read();
  }

  /**
   * One change into `held`. True when only the server can finish the job: the
   * window lost a row it has no spare for, or the row's place was a guess.
   */
  private apply(event: ChangeEvent<Row>): boolean {
    const pk = event.pk;
    if (pk === null) return false;
    const at = this.held.findIndex((row) => this.pkOf(row) === pk);
    const node = event.node;
    let guessed = false;
    if ((event.op === 'CREATED' || event.op === 'UPDATED') && node) {
      if (at >= 0 && !this.mayMove(this.held[at]!, node, event)) {
        this.held = this.held.with(at, node);
        return false;
      }
      const rest = at >= 0 ? this.held.toSpliced(at, 1) : this.held;
      [this.held, guessed] = this.place(rest, node);
    } else if (at >= 0) {
      this.held = this.held.toSpliced(at, 1); // DELETED or LEFT
    }
    return guessed || (!this.complete && this.held.length < this.end);
  }

  /**
   * Whether an update can change the row's place: a value it is ordered by
   * differs from the one held. A value not in the selection is judged by the
   * fields the change touched (or assumed changed when the event does not say).
   */
  private mayMove(held: Row, node: Row, event: ChangeEvent<Row>): boolean {
    const changed = event.changed_fields;
    return this.keys.some((key) => {
      const before = valueAt(held, key.path);
      const after = valueAt(node, key.path);
      if (before !== undefined && after !== undefined) return JSON.stringify(before) !== JSON.stringify(after);
      const field = key.path[0]!;
      // `author_id` changes when `author` does, and the other way round.
      return changed === null || changed.some((name) => name === field || `${name}_id` === field || name === `${field}_id`);
    });
  }

  /**
   * `rows` with `node` inserted in order (a row past the last one held is out,
   * unless every row is held), and whether its place was a guess.
   */
  private place(rows: Row[], node: Row): [Row[], boolean] {
    let guessed = false;
    let at = rows.length;
    for (let i = 0; i < rows.length; i += 1) {
      let order = compareRows(this.keys, node, rows[i]);
      if (order === 'uncertain') {
        guessed = true;
        order = guessRows(this.keys, node, rows[i]);
      }
      if (order < 0) {
        at = i;
        break;
      }
    }
    if (at === rows.length && !this.complete) return [rows, guessed];
    const placed = rows.toSpliced(at, 0, node);
    if (placed.length > this.capacity) {
      placed.pop();
      this.complete = false;
    }
    return [placed, guessed];
  }

  /**
   * Read the window from the server; events that arrive meanwhile are applied
   * again over what it returns. One read at a time; asks made during a read make
   * one more read after it.
   */
  private async read(): Promise<void> {
    if (this.duringRead !== null) {
      this.readAgain = true;
      return;
    }
    this.readOnReady = false;
    this.readAgain = false;
    clearTimeout(this.retryTimer);
    this.duringRead = [];
    this.update({ refreshing: true });
    let failed = false;
    try {
      const count = this.capacity === Infinity ? undefined : this.capacity;
      const rows = await this.source.rows(count);
      this.held = this.unique(rows);
      this.complete = count === undefined || rows.length < count;
      this.retries = 0;
      // Per row, the last event received says the latest of it (its node is read
      // when it is delivered); an earlier one is older than that, maybe than the
      // read, but the fields it changed still count for where the row goes.
      const latest = new Map<string, ChangeEvent<Row>>();
      for (const event of this.duringRead) {
        if (event.pk === null) continue;
        const before = latest.get(event.pk);
        latest.delete(event.pk);
        latest.set(event.pk, before ? { ...event, changed_fields: unionOf(before.changed_fields, event.changed_fields) } : event);
      }
      const read = new Map(this.held.map((row) => [this.pkOf(row), JSON.stringify(row)]));
      for (const [pk, event] of latest) {
        // Already what was read: applying it again could only move the row by a guess.
        if (event.node !== null && read.get(pk) === JSON.stringify(event.node)) continue;
        if (this.apply(event)) this.readAgain = true;
      }
      this.snapshot_ = { ...this.snapshot_, error: null };
    } catch (error) {
      failed = true;
      this.snapshot_ = { ...this.snapshot_, error };
      this.readOnReady = true; // a reconnect is a good moment to try again
      const delay = Math.min(RETRY_MAX, RETRY_MIN * 2 ** this.retries);
      this.retries += 1;
      if (this.running) this.retryTimer = setTimeout(() => void this.read(), delay);
    } finally {
      this.duringRead = null;
    }
    const again = this.readAgain && !failed && this.running;
    this.snapshot_ = { ...this.snapshot_, loading: false, refreshing: again };
    this.publish();
    if (again) await this.read();
  }

  /** The rows of a read, each pk once (a row that moved between two pages can come twice). */
  private unique(rows: Row[]): Row[] {
    const seen = new Set<string>();
    return rows.filter((row) => {
      const pk = this.pkOf(row);
      if (seen.has(pk)) return false;
      seen.add(pk);
      return true;
    });
  }

  private pkOf(row: Row): string {
    return String((row as Record<string, unknown>)[this.pk]);
  }

  private update(changes: Partial<LiveSnapshot<Row>>): void {
    this.snapshot_ = { ...this.snapshot_, ...changes };
    this.notify();
  }

  /** The held rows' window into the snapshot. */
  private publish(): void {
    this.snapshot_ = { ...this.snapshot_, rows: this.held.slice(this.start_, this.end) };
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener(this.snapshot_);
  }
}
