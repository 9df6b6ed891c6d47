/**
 * Where a changed row goes in a live result: the query's ORDER BY, compared in the
 * browser only where the browser provably agrees with the database.
 *
 * Numbers, booleans, dates, times, integer pks and equal values compare the same
 * everywhere. Text does not: the database sorts by its collation (`en_US` puts
 * "b" before "C", a code-point comparison does not), and where nulls go differs
 * between PostgreSQL and SQLite unless the query says (`ASC_NULLS_FIRST`). Such a
 * comparison is *uncertain*: the row is placed by a best guess and the live result
 * asks the server for the true order (live_queryset.ts).
 */
import type { OrderInput } from './compile.js';
import type { ModelMeta, SchemaMeta } from './types.js';

/** One ORDER BY item: the path to the value in a row, and how the database sorts it. */
export interface SortKey {
  /** `['author', 'username']` for `author__username`. */
  path: readonly string[];
  descending: boolean;
  /** Where nulls go when the query says so; null: the database's default. */
  nulls: 'first' | 'last' | null;
  /** The column's lookup set (`DateTime`, `Int`, `String`...): how to compare its values. */
  kind: string;
}

/** The result of comparing two rows: their order, or `uncertain` when only the database knows. */
export type Order = -1 | 0 | 1 | 'uncertain';

/** The sort keys of a compiled ordering, the pk last (the server's tie-breaker). */
export function sortKeys(schema: SchemaMeta, model: ModelMeta, ordering: readonly OrderInput[]): SortKey[] {
  const keys = ordering.map((item) => sortKey(schema, model, item, []));
  const last = keys.at(-1);
  if (!(last && last.path.length === 1 && last.path[0] === model.pk)) {
    keys.push({ path: [model.pk], descending: false, nulls: null, kind: model.fields[model.pk] ?? 'ID' });
  }
  return keys;
}

function sortKey(schema: SchemaMeta, model: ModelMeta, item: OrderInput, prefix: string[]): SortKey {
  const [name, value] = Object.entries(item)[0] ?? ['', ''];
  if (typeof value === 'object' && value !== null) {
    const relation = model.relations[name];
    const target = relation ? schema.models[relation.target] : undefined;
    // An unknown relation gives an unknown kind: every comparison on it is uncertain.
    if (!target) return { path: [...prefix, name], descending: false, nulls: null, kind: '' };
    return sortKey(schema, target, value as OrderInput, [...prefix, name]);
  }
  const direction = String(value);
  return {
    path: [...prefix, name],
    descending: direction.startsWith('DESC'),
    nulls: direction.endsWith('NULLS_FIRST') ? 'first' : direction.endsWith('NULLS_LAST') ? 'last' : null,
    kind: model.fields[name] ?? '',
  };
}

/** A value at `path` in a row; undefined when the row's selection lacks it. */
export function valueAt(row: unknown, path: readonly string[]): unknown {
  let value: unknown = row;
  for (const step of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const INTEGER = /^-?\d+$/;

function fraction(digits: string | undefined): bigint {
  return BigInt((digits ?? '').padEnd(9, '0').slice(0, 9));
}

/** An ISO 8601 date-time as nanoseconds since the epoch (Date.parse drops microseconds). */
export function instant(text: string): bigint | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  let offset = 0;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offset * 60_000;
  return BigInt(ms) * 1_000_000n + fraction(frac);
}

function timeOfDay(text: string): bigint | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const [, h, mi, s = '0', frac] = m;
  return BigInt((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1_000_000_000n + fraction(frac);
}

function sign(a: number | bigint | string, b: number | bigint | string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two non-null values of one kind, compared as the database would, or `uncertain`. */
function compareValues(kind: string, a: unknown, b: unknown): Order {
  if (a === b) return 0;
  switch (kind) {
    case 'Int':
    case 'Float':
      return typeof a === 'number' && typeof b === 'number' ? sign(a, b) : 'uncertain';
    case 'Boolean':
      return typeof a === 'boolean' && typeof b === 'boolean' ? sign(Number(a), Number(b)) : 'uncertain';
    case 'ID':
    case 'BigInt':
      // Auto-increment keys compare as integers; other ids (UUIDs, text) by collation.
      return typeof a === 'string' && typeof b === 'string' && INTEGER.test(a) && INTEGER.test(b)
        ? sign(BigInt(a), BigInt(b))
        : typeof a === 'number' && typeof b === 'number' ? sign(a, b) : 'uncertain';
    case 'DateTime':
    case 'Date': {
      const x = typeof a === 'string' ? instant(a) : null;
      const y = typeof b === 'string' ? instant(b) : null;
      return x !== null && y !== null ? sign(x, y) : 'uncertain';
    }
    case 'Time': {
      const x = typeof a === 'string' ? timeOfDay(a) : null;
      const y = typeof b === 'string' ? timeOfDay(b) : null;
      return x !== null && y !== null ? sign(x, y) : 'uncertain';
    }
    default:
      return 'uncertain';
  }
}

/** `a` against `b` under the keys: the first key that differs decides. */
export function compareRows(keys: readonly SortKey[], a: unknown, b: unknown): Order {
  for (const key of keys) {
    const x = valueAt(a, key.path);
    const y = valueAt(b, key.path);
    if (x === undefined || y === undefined) return 'uncertain';
    let order: Order;
    if (x === null || y === null) {
      if (x === y) continue;
      if (key.nulls === null) return 'uncertain';
      // NULLS FIRST/LAST is where nulls go in the result, whatever the direction.
      const nullFirst = key.nulls === 'first';
      return (x === null) === nullFirst ? -1 : 1;
    }
    order = compareValues(key.kind, x, y);
    if (order === 'uncertain') return order;
    if (order !== 0) return key.descending ? (-order as -1 | 1) : order;
  }
  return 0;
}

/**
 * A best guess where the database's order is unknown: code points for text,
 * nulls last. Only used to place a row until the server says where it belongs.
 */
export function guessRows(keys: readonly SortKey[], a: unknown, b: unknown): -1 | 0 | 1 {
  for (const key of keys) {
    const x = valueAt(a, key.path);
    const y = valueAt(b, key.path);
    if (x === y) continue;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    const exact = compareValues(key.kind, x, y);
    const order = exact === 'uncertain' ? sign(String(x), String(y)) : exact;
    if (order !== 0) return key.descending ? (-order as -1 | 1) : order;
  }
  return 0;
}
