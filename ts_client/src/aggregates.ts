/**
 * Django's aggregate(), typed: `await qs.aggregate({n: Count(), avg: Avg('title_length')})`
 * is one request (`<model>_aggregate`) and one SQL query over the rows the user may read
 * (the server applies the row rules before aggregating). A function over a column it
 * does not take (Sum of a date, a hidden field) is a compile error here and a GraphQL
 * validation error on the server.
 */
import type { ModelMeta, ModelTypes } from './types.js';
import type { Document } from './compile.js';

export type AggregateFunction = 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max' | 'std_dev' | 'variance';

/** One aggregate of an aggregate() call: a function and the column it reads. */
export interface Aggregate<Fn extends AggregateFunction = AggregateFunction, F extends string = string> {
  readonly fn: Fn;
  readonly field: F | null;
}

/** `Count()`: rows; `Count('author_id', {distinct: true})`: distinct values. */
export function Count(): Aggregate<'count', never>;
export function Count<F extends string>(field: F, options: { distinct: true }): Aggregate<'count_distinct', F>;
export function Count(field?: string): Aggregate {
  return field === undefined ? { fn: 'count', field: null } : { fn: 'count_distinct', field };
}
export const Sum = <F extends string>(field: F): Aggregate<'sum', F> => ({ fn: 'sum', field });
export const Avg = <F extends string>(field: F): Aggregate<'avg', F> => ({ fn: 'avg', field });
export const Min = <F extends string>(field: F): Aggregate<'min', F> => ({ fn: 'min', field });
export const Max = <F extends string>(field: F): Aggregate<'max', F> => ({ fn: 'max', field });
/** Population standard deviation and variance, as Django's default (sample=False). */
export const StdDev = <F extends string>(field: F): Aggregate<'std_dev', F> => ({ fn: 'std_dev', field });
export const Variance = <F extends string>(field: F): Aggregate<'variance', F> => ({ fn: 'variance', field });

type Columns<T extends ModelTypes> = T extends { aggregates: infer A extends { numeric: string; ordered: string; countable: string } }
  ? A : { numeric: never; ordered: never; countable: never };

/** What aggregate() accepts for a model: each function over the columns it takes. */
export type AggregateSpec<T extends ModelTypes> = Record<string,
  | Aggregate<'count', never>
  | Aggregate<'count_distinct', Columns<T>['countable']>
  | Aggregate<'sum' | 'avg' | 'std_dev' | 'variance', Columns<T>['numeric']>
  | Aggregate<'min' | 'max', Columns<T>['ordered']>>;

/** The typed answer: counts are numbers, averages numbers or null, min/max/sum the column's type or null. */
export type AggregateResult<T extends ModelTypes, S> = {
  [K in keyof S]: S[K] extends Aggregate<infer Fn, infer F>
    ? Fn extends 'count' | 'count_distinct' ? number
      : Fn extends 'avg' | 'std_dev' | 'variance' ? number | null
        : F extends keyof T['fields'] ? T['fields'][F] | null : never
    : never;
};

/** The selection of each aggregate of a call: `n: count`, `avg: avg { title_length }`. */
function aggregateParts(spec: Record<string, Aggregate>, reserved: readonly string[]): string[] {
  const parts = Object.entries(spec).map(([key, { fn, field }]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`'${key}' is not a valid aggregate name.`);
    if (reserved.includes(key)) throw new Error(`'${key}' conflicts with a field of values().`);
    return fn === 'count' ? `${key}: count` : `${key}: ${fn} { ${field} }`;
  });
  if (!parts.length) throw new Error('aggregate() needs at least one aggregate.');
  return parts;
}

/** `query name($a: A, ...) { root(a: $a, ...) { body } }` with the variables that are set. */
function document(root: string, types: Record<string, string>, variables: Record<string, unknown>,
  body: string): Document {
  const used = Object.keys(types).filter((k) => variables[k] !== undefined);
  const defs = used.map((k) => `$${k}: ${types[k]}`).join(', ');
  const args = used.map((k) => `${k}: $${k}`).join(', ');
  return {
    query: `query ${root}${defs ? `(${defs})` : ''} { ${root}${args ? `(${args})` : ''} { ${body} } }`,
    variables: Object.fromEntries(used.map((k) => [k, variables[k]])),
  };
}

function filterTypes(model: ModelMeta): Record<string, string> {
  const types: Record<string, string> = { filters: model.inputs.filter };
  if (model.inputs.scope) types.scopes = `[${model.inputs.scope}!]`;
  return types;
}

/** `query($filters) { article_aggregate(filters: $filters) { n: count avg: avg { title_length } } }`. */
export function aggregateDocument(model: ModelMeta, spec: Record<string, Aggregate>,
  variables: Record<string, unknown>): Document {
  const root = model.roots.aggregate;
  if (!root) throw new Error(`${model.name} offers no aggregates.`);
  return document(root, filterTypes(model), variables, aggregateParts(spec, []).join(' '));
}

/** The server's answer, flattened to the keys of the call. */
export function flattenAggregate(spec: Record<string, Aggregate>, data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).map(([key, { fn, field }]) => {
    const value = data[key];
    return [key, fn === 'count' ? value : (value as Record<string, unknown> | null)?.[field!] ?? null];
  }));
}

/** The keys `values(...)` may name before `annotate()`: the model's own columns the server groups by. */
export type GroupKey<T extends ModelTypes> = T extends { aggregates: { group: infer G extends string } } ? G : never;

/**
 * `query($by, $filters, $offset, $limit) { article_group_by(by: $by, ...) { key { author_id }
 * n: count } }`: Django's `values(*by).annotate(...)`, one page of groups ordered by the keys.
 */
export function groupDocument(model: ModelMeta, by: readonly string[], spec: Record<string, Aggregate>,
  variables: Record<string, unknown>): Document {
  const root = model.roots.group_by;
  if (!root || !model.inputs.group) throw new Error(`${model.name} offers no grouping.`);
  if (!by.length) throw new Error('annotate() groups by the keys of values(): name at least one.');
  const types = { by: `[${model.inputs.group}!]!`, ...filterTypes(model), offset: 'Int', limit: 'Int' };
  const body = `key { ${by.join(' ')} } ${aggregateParts(spec, by).join(' ')}`;
  return document(root, types, { ...variables, by }, body);
}

/** One group of the server's answer as Django's dict: the keys, then the aggregates. */
export function flattenGroup(spec: Record<string, Aggregate>, group: Record<string, unknown>): Record<string, unknown> {
  return { ...(group.key as Record<string, unknown>), ...flattenAggregate(spec, group) };
}

/**
 * The groups of `values(...).annotate(...)`: thenable like a QuerySet, `limit()` / `offset()`
 * slice the groups (Python's `qs[:n]`). Without a limit every group is read, a page at a time.
 */
export class GroupedQuerySet<Row> implements PromiseLike<Row[]> {
  constructor(
    private readonly page: (offset: number, limit: number) => Promise<Row[]>,
    private readonly pageSize: number,
    private readonly start = 0,
    private readonly count: number | undefined = undefined,
  ) {}

  /** At most n groups. */
  limit(n: number): GroupedQuerySet<Row> {
    return new GroupedQuerySet(this.page, this.pageSize, this.start, n);
  }

  /** Skip n groups. */
  offset(n: number): GroupedQuerySet<Row> {
    return new GroupedQuerySet(this.page, this.pageSize, n, this.count);
  }

  async fetch(): Promise<Row[]> {
    const rows: Row[] = [];
    for (let at = this.start; ; at += this.pageSize) {
      const want = this.count === undefined ? this.pageSize : Math.min(this.pageSize, this.start + this.count - at);
      if (want <= 0) break;
      const page = await this.page(at, want);
      rows.push(...page);
      if (page.length < want) break;
    }
    return rows;
  }

  then<A = Row[], B = never>(
    onfulfilled?: ((value: Row[]) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.fetch().then(onfulfilled, onrejected);
  }
}
