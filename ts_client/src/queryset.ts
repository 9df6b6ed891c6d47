/**
 * Django's QuerySet and managers, compiled to GraphQL. A QuerySet is immutable
 * (every method returns a copy) and thenable (`await qs` runs it), so it can be
 * built up, passed around and reused like the Python one.
 */
import type { Client } from './client.js';
import { getDefaultClient } from './client.js';
import {
  aggregateDocument, flattenAggregate, flattenGroup, groupDocument, GroupedQuerySet,
  type AggregateResult, type AggregateSpec, type GroupKey,
} from './aggregates.js';
import { callAction } from './actions.js';
import { callMethod } from './computed.js';
import {
  bulkCreateDocument, bulkDeleteDocument, bulkUpdateDocument, changesDocument, compileOrder,
  countDocument, createDocument, deleteDocument, listDocument, merge, updateDocument, upsertDocument,
  type Document, type FilterInput, type OrderInput, type ScopeInput,
} from './compile.js';
import type { LiveHandlers, LiveSubscription } from './live.js';
import { LiveQuerySet, type LiveQueryOptions } from './live_queryset.js';
import {
  DoesNotExist, LookupError, MultipleObjectsReturned, ValidationError, type ChangeEvent, type FieldError,
} from './protocol.js';
import { compileConditions, Q, type Condition } from './q.js';
import {
  addPaths, flattenValues, NESTED_PAGE, treeCost, treeSelection, valuePaths, valuesSelection, type RelatedTree,
} from './selection.js';
import type { ModelMeta, ModelTypes, OrderBy, SchemaMeta } from './types.js';

/** A row with its relation managers (`user.article_set`) and model methods, as `all()` returns it. */
export type Instance<T extends ModelTypes> = T['fields'] & {
  readonly [K in keyof T['related']]: T['related'][K] extends ModelTypes ? RelatedManager<T['related'][K]> : never;
} & (T extends { methods: infer M } ? Readonly<M> : unknown);

/** The pk as filters and mutations accept it. */
export type PK = string | number;

/** B's properties replace A's. */
type Override<A, B> = Omit<A, keyof B> & B;
type Head<P extends string> = P extends `${infer H}__${string}` ? H : P;
type Tail<P extends string, H extends string> = P extends `${H}__${infer R}` ? R : never;

/** An instance with the relations of `select_related` / `prefetch_related` paths P filled in. */
export type WithRelated<T extends ModelTypes, P extends string> =
  [P] extends [never] ? Instance<T> : Override<Instance<T>, Related<T, P>>;

/**
 * What paths P add to a row: a to-one relation as an instance (null when there is
 * no row or it may not be read), a to-many one as a manager holding its rows.
 */
export type Related<T extends ModelTypes, P extends string> = {
  -readonly [H in Head<P> & keyof T['single']]: T['single'][H] extends ModelTypes
    ? WithRelated<T['single'][H], Tail<P, H>> | null : never;
} & {
  readonly [H in Head<P> & keyof T['related']]: T['related'][H] extends ModelTypes
    ? Prefetched<T['related'][H], WithRelated<T['related'][H], Tail<P, H>>> : never;
};

interface State {
  /** `{published: true}`, `{by_author: {user: 3}}`: scopes in call order. */
  scopes: ScopeInput[];
  filters: FilterInput[];
  ordering: OrderInput[];
  offset: number | undefined;
  limit: number | undefined;
  /** values() keys, or null for instances. */
  fields: readonly string[] | null;
  /** Relations fetched with each row (select_related, prefetch_related). */
  related: RelatedTree;
  distinct: boolean;
  /** Rows already fetched with a parent (a prefetched relation's `all()`). */
  cache: readonly unknown[] | null;
  /**
   * The next filter() or exclude() joins the last filter, as one call: a relation
   * manager's own filter (Django's `_next_is_sticky()`), so `tag.articles.filter(
   * {tags__name: ...})` is about the tag the manager is for.
   */
  sticky: boolean;
}

const EMPTY: State = {
  scopes: [], filters: [], ordering: [], offset: undefined, limit: undefined, fields: null, related: {}, distinct: false,
  cache: null, sticky: false,
};

/** Where a queryset runs: the model, the schema it belongs to, and (maybe) a client. */
export interface Binding {
  schema: SchemaMeta;
  model: ModelMeta;
  client: Client | null;
}

function clientOf(binding: Binding): Client {
  return binding.client ?? getDefaultClient();
}

function bindingOf(owner: Binding, accessor: string): Binding {
  const target = owner.schema.models[owner.model.relations[accessor]!.target]!;
  return { schema: owner.schema, model: target, client: owner.client };
}

type Raw = Record<string, unknown>;

/**
 * Rows come back as plain objects; instances get a prototype whose getters build
 * relation managers, so `JSON.stringify(row)` stays exactly the server's data.
 * Relations fetched with the row are own properties: instances (to-one) and
 * managers holding their rows (to-many, whose toJSON gives the rows).
 */
const prototypes = new WeakMap<ModelMeta, Map<Client | null, object>>();
function hydrate(binding: Binding, row: Raw, tree: RelatedTree): object {
  let byClient = prototypes.get(binding.model);
  if (!byClient) prototypes.set(binding.model, (byClient = new Map()));
  let proto = byClient.get(binding.client);
  if (!proto) {
    proto = {};
    for (const [name, relation] of Object.entries(binding.model.relations)) {
      if (!relation.many || relation.reverse === null) continue;
      Object.defineProperty(proto, name, {
        get(this: Raw) {
          return new RelatedManager(binding, name, this[binding.model.pk] as PK);
        },
      });
    }
    for (const [name, computed] of Object.entries(binding.model.computed ?? {})) {
      if (computed.kind !== 'method') continue;
      Object.defineProperty(proto, name, {
        value(this: Record<string, unknown>, args: Record<string, unknown> = {}) {
          return callMethod(clientOf(binding), binding.model, name, this[binding.model.pk] as PK, args);
        },
      });
    }
    for (const name of Object.keys(binding.model.actions ?? {})) {
      Object.defineProperty(proto, name, {
        async value(this: Record<string, unknown>, args: Record<string, unknown> = {}) {
          const row = await callAction(clientOf(binding), binding.model, name, this[binding.model.pk] as PK, args);
          return hydrate(binding, row, {});
        },
      });
    }
    byClient.set(binding.client, proto);
  }
  const instance = Object.create(proto) as Raw;
  const counts = new Set(Object.keys(tree).map((accessor) => `${accessor}_count`));
  for (const [key, value] of Object.entries(row)) {
    const below = tree[key];
    if (below === undefined) {
      if (!counts.has(key)) instance[key] = value;
      continue;
    }
    const target = bindingOf(binding, key);
    const related = binding.model.relations[key]!.many
      ? new PrefetchedManager(binding, key, row[binding.model.pk] as PK,
        ((value ?? []) as Raw[]).map((r) => hydrate(target, r, below) as Instance<ModelTypes>), below)
      : value === null || value === undefined ? null : hydrate(target, value as Raw, below);
    Object.defineProperty(instance, key, { value: related, enumerable: true, writable: true, configurable: true });
  }
  return instance;
}

/** A row of ``model`` read by other means (a hand-written field) as an instance. */
export function instanceOf(schema: SchemaMeta, model: ModelMeta, row: Raw, client: Client | null): object {
  return hydrate({ schema, model, client }, row, {});
}

/**
 * A to-many relation fetched with its parent holds at most NESTED_PAGE rows and
 * its count; where the count says more exist, read them all (in the same order).
 */
async function completeRelated(binding: Binding, tree: RelatedTree, rows: Raw[]): Promise<void> {
  const work: Promise<void>[] = [];
  for (const [accessor, below] of Object.entries(tree)) {
    const relation = binding.model.relations[accessor]!;
    const target = bindingOf(binding, accessor);
    for (const row of rows) {
      const value = row[accessor];
      if (!relation.many) {
        if (value) work.push(completeRelated(target, below, [value as Raw]));
        continue;
      }
      const list = (value ?? []) as Raw[];
      const count = row[`${accessor}_count`];
      if (typeof count === 'number' && count > list.length) {
        const manager = new RelatedManager<ModelTypes>(binding, accessor, row[binding.model.pk] as PK);
        const all = manager.all().withRelated(below);
        work.push(all.fetchRaw().then((rest) => { row[accessor] = rest; }));
      } else {
        work.push(completeRelated(target, below, list));
      }
    }
  }
  await Promise.all(work);
}

const LATEST_BY = "latest() and earliest() require either fields as positional arguments or 'get_latest_by' in the model's Meta.";

/** The scopes of a model as methods: `published(): Scoped<...>`, chainable anywhere. */
export type ScopeMethods<T extends ModelTypes, Row> = T extends { scopes: infer S }
  ? { readonly [K in keyof S]: S[K] extends readonly unknown[] ? (...args: S[K]) => Scoped<T, Row> : never }
  : unknown;

/**
 * What annotate() requires of the row: every values() key one the server groups by; a
 * key that is not names itself in the compile error.
 */
type Groupable<T extends ModelTypes, Row> = [Exclude<keyof Row, GroupKey<T>>] extends [never] ? unknown
  : { 'values() keys annotate() cannot group by': Exclude<keyof Row, GroupKey<T>> };

/** A QuerySet with its model's scopes: what every QuerySet method returns. */
export type Scoped<T extends ModelTypes, Row = Instance<T>> = QuerySet<T, Row> & ScopeMethods<T, Row>;

/** Give `target` one method per scope of the model; each returns `apply(scope input)`. */
function attachScopes(target: object, model: ModelMeta, apply: (scope: ScopeInput) => unknown): void {
  for (const name of model.scopes ?? []) {
    Object.defineProperty(target, name, {
      value: (args?: Record<string, unknown>) => apply({ [name]: args ?? true }),
    });
  }
}

export class QuerySet<T extends ModelTypes, Row = Instance<T>> implements PromiseLike<Row[]> {
  constructor(
    protected readonly binding: Binding,
    private readonly state: State = EMPTY,
  ) {
    attachScopes(this, binding.model, (scope) => this.copy({ scopes: [...this.state.scopes, scope] }));
  }

  private copy<R = Row>(changes: Partial<State>): Scoped<T, R> {
    return new QuerySet<T, R>(this.binding, { ...this.state, cache: null, sticky: false, ...changes }) as Scoped<T, R>;
  }

  /** `filter` as the next filter of the chain, or within the last one when that is sticky. */
  private chained(filter: FilterInput): Scoped<T, Row> {
    const { filters, sticky } = this.state;
    if (!sticky || filters.length === 0) return this.copy({ filters: [...filters, filter] });
    return this.copy({ filters: [...filters.slice(0, -1), { AND: [filters.at(-1)!, filter] }] });
  }

  /** The model's metadata (Django's `qs.model`). */
  get model(): ModelMeta {
    return this.binding.model;
  }

  private conditions(conditions: readonly Condition<T>[]): FilterInput {
    return compileConditions(this.binding.schema, this.model, conditions);
  }

  /**
   * Rows matching every condition: keywords with Django's lookups (`title__icontains`,
   * `author__username`, `comment__isnull`) and Q objects (`Article.Q({...}).or({...})`).
   */
  filter(...conditions: Condition<T>[]): Scoped<T, Row> {
    if (conditions.length === 0) return this as Scoped<T, Row>;
    return this.chained(this.conditions(conditions));
  }

  /** Rows NOT matching all of the conditions together. */
  exclude(...conditions: Condition<T>[]): Scoped<T, Row> {
    if (conditions.length === 0) return this as Scoped<T, Row>;
    return this.chained({ NOT: this.conditions(conditions) });
  }

  /** A raw GraphQL filter input: `where({OR: [{...}, {...}]})`. */
  where(filter: T['where']): Scoped<T, Row> {
    return this.copy({ filters: [...this.state.filters, filter as FilterInput] });
  }

  all(): Scoped<T, Row> {
    return this as Scoped<T, Row>;
  }

  /** Replaces the ordering, like Django: `order_by('-created_at', 'title')`. */
  order_by(...keys: OrderBy<T['order']>[]): Scoped<T, Row> {
    return this.copy({ ordering: keys.map((k) => compileOrder(this.binding.schema, this.model, k)) });
  }

  /** At most n rows (Python's `qs[:n]`). */
  limit(n: number): Scoped<T, Row> {
    return this.copy({ limit: n });
  }

  /** Skip n rows (Python's `qs[n:]`). */
  offset(n: number): Scoped<T, Row> {
    return this.copy({ offset: n });
  }

  /**
   * Dicts of these keys, as Django's values(): columns, `pk`, a relation (its pk),
   * spans through to-one relations (`author__username`, null past a missing row).
   * Without keys, every column.
   */
  values(): Scoped<T, T['fields']>;
  values<K extends keyof T['values'] & string>(...fields: K[]): Scoped<T, Pick<T['values'], K>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above say what it returns
  values(...fields: string[]): Scoped<T, any> {
    valuePaths(this.binding.schema, this.model, fields);
    return this.copy({ fields: fields.length ? fields : Object.keys(this.model.fields), related: {} });
  }

  /**
   * Follow to-one relations in the same request: `article.author` is then a User
   * (or null), `select_related('article__author')` goes further.
   */
  select_related<P extends T['select']>(first: P, ...paths: P[]): Scoped<T, Override<Row, Related<T, P>>> {
    const related = addPaths(this.binding.schema, this.model, this.state.related, [first, ...paths], true);
    return this.copy({ related });
  }

  /**
   * Fetch relations of any kind with the rows, in the same request: a to-many
   * relation's manager then holds its rows (`article.tags.cached`, and `await
   * article.tags.all()` asks nothing more).
   */
  prefetch_related<P extends T['prefetch']>(first: P, ...paths: P[]): Scoped<T, Override<Row, Related<T, P>>> {
    const related = addPaths(this.binding.schema, this.model, this.state.related, [first, ...paths], false);
    return this.copy({ related });
  }

  /**
   * Without repeated rows. The server never repeats an instance (a filter across a
   * to-many relation matches each row once), so this matters after values(),
   * whose dicts can repeat: `values('author__username').distinct()`.
   */
  distinct(): Scoped<T, Row> {
    return this.copy({ distinct: true });
  }

  /** @internal the same queryset fetching `tree` below each row. */
  withRelated(tree: RelatedTree): Scoped<T, Row> {
    return this.copy({ related: tree });
  }

  /** @internal this queryset's rows, already fetched with their parent. */
  withCache(rows: readonly unknown[]): Scoped<T, Row> {
    return new QuerySet<T, Row>(this.binding, { ...this.state, cache: rows }) as Scoped<T, Row>;
  }

  /** The combined filter input (undefined when unfiltered). */
  /**
   * One filter per filter()/exclude() call, chained as Django chains them: each call
   * may match another row of a to-many relation (CHAIN), where the conditions of one
   * call are about the same row (AND).
   */
  protected filterInput(): FilterInput | undefined {
    const { filters } = this.state;
    if (filters.length === 0) return undefined;
    return filters.length === 1 ? filters[0] : { CHAIN: filters };
  }

  /** The selection of one row, with `nested` rows per to-many relation. */
  private body(nested: number): string {
    const { schema } = this.binding;
    const { fields, related } = this.state;
    if (fields !== null) return valuesSelection(schema, this.model, valuePaths(schema, this.model, fields));
    return treeSelection(schema, this.model, related, nested);
  }

  private decode(row: Raw): Row {
    const { fields, related } = this.state;
    if (fields !== null) return flattenValues(valuePaths(this.binding.schema, this.model, fields), row) as Row;
    return hydrate(this.binding, row, related) as Row;
  }

  /** The `scopes` argument (undefined when no scope was called). */
  protected scopeInput(): ScopeInput[] | undefined {
    return this.state.scopes.length ? this.state.scopes : undefined;
  }

  /** The document and variables this queryset runs: reuse them with Apollo, urql, fetch... */
  toGraphQL(): Document {
    const { ordering, offset, limit } = this.state;
    return listDocument(this.model, {
      scopes: this.scopeInput(),
      filters: this.filterInput(),
      ordering: ordering.length ? ordering : undefined,
      offset,
      limit,
    }, this.body(NESTED_PAGE));
  }

  /** Rows per request: the client's page size, fewer when nested relations would exceed the server's complexity limit. */
  private pageRows(): number {
    const client = clientOf(this.binding);
    if (this.state.fields !== null) return client.pageSize;
    const cost = treeCost(this.binding.schema, this.model, this.state.related, NESTED_PAGE);
    return Math.max(1, Math.min(client.pageSize, Math.floor(client.maxComplexity / (cost + 1))));
  }

  private async page(offset: number | undefined, limit: number): Promise<Raw[]> {
    const { ordering } = this.state;
    const doc = listDocument(this.model, {
      scopes: this.scopeInput(), filters: this.filterInput(), ordering: ordering.length ? ordering : undefined, offset, limit,
    }, this.body(NESTED_PAGE));
    const data = await clientOf(this.binding).request<Record<string, Raw[]>>(doc.query, doc.variables);
    return data[this.model.roots.list!] ?? [];
  }

  /** @internal the rows as the server sends them, every page, relations completed. */
  async fetchRaw(): Promise<Raw[]> {
    const { offset = 0, limit, fields, related } = this.state;
    const size = this.pageRows();
    const rows: Raw[] = [];
    for (let start = offset; ; start += size) {
      const want = limit === undefined ? size : Math.min(size, offset + limit - start);
      if (want <= 0) break;
      const page = await this.page(start || undefined, want);
      rows.push(...page);
      if (page.length < want) break;
    }
    if (fields === null) await completeRelated(this.binding, related, rows);
    return rows;
  }

  /** values() + distinct(): every row read in order, the first of each distinct dict kept, then sliced. */
  private async distinctValues(): Promise<Row[]> {
    const { offset = 0, limit } = this.state;
    const unsliced = this.copy<Row>({ offset: undefined, limit: undefined, distinct: false });
    const size = this.pageRows();
    const seen = new Set<string>();
    const rows: Row[] = [];
    for (let start = 0; limit === undefined || rows.length < offset + limit; start += size) {
      const page = await unsliced.page(start || undefined, size);
      for (const raw of page) {
        const row = this.decode(raw);
        const key = JSON.stringify(row);
        if (!seen.has(key)) {
          seen.add(key);
          rows.push(row);
        }
      }
      if (page.length < size) break;
    }
    return rows.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  /**
   * Run the query. Without a limit every row is fetched, in pages of the client's
   * `pageSize` (the server caps one page), as Django's unsliced queryset would.
   */
  async fetch(): Promise<Row[]> {
    if (this.state.cache !== null) return [...this.state.cache] as Row[];
    if (this.state.distinct && this.state.fields !== null) return this.distinctValues();
    return (await this.fetchRaw()).map((row) => this.decode(row));
  }

  then<A = Row[], B = never>(
    onfulfilled?: ((value: Row[]) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.fetch().then(onfulfilled, onrejected);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Row> {
    yield* await this.fetch();
  }

  /** Exactly one row, or DoesNotExist / MultipleObjectsReturned. */
  async get(...conditions: Condition<T>[]): Promise<Row> {
    const rows = await this.filter(...conditions).copy<Row>({ limit: 2 }).fetch();
    if (rows.length === 0) throw new DoesNotExist(this.model.name);
    if (rows.length > 1) throw new MultipleObjectsReturned(this.model.name);
    return rows[0]!;
  }

  /** The first row in the queryset's order (the model's default order when unordered), or null. */
  async first(): Promise<Row | null> {
    const rows = await this.copy<Row>({ limit: 1 }).fetch();
    return rows[0] ?? null;
  }

  /** The last row: the order reversed (the model's default order when unordered), or null. */
  async last(): Promise<Row | null> {
    // With the pk the server breaks ties by: the last row of the list, not of a tie.
    const ordering = [...this.order('last()'), { [this.model.pk]: 'ASC' }];
    const reversed = ordering.map((item) => reverseOrder(item));
    const rows = await this.copy<Row>({ ordering: reversed, offset: undefined, limit: 1 }).fetch();
    return rows[0] ?? null;
  }

  private async newest(fields: readonly string[], direction: 1 | -1): Promise<Row> {
    if (this.state.offset !== undefined || this.state.limit !== undefined) {
      throw new TypeError('Cannot change a query once a slice has been taken.');
    }
    const keys = fields.length ? fields : this.model.latestBy;
    if (keys.length === 0) throw new TypeError(LATEST_BY);
    const ordering = keys.map((key) => {
      const descending = key.startsWith('-') !== (direction === -1);
      const name = key.replace(/^-/, '');
      return compileOrder(this.binding.schema, this.model, descending ? `-${name}` : name);
    });
    const row = await this.copy<Row>({ ordering }).first();
    if (row === null) throw new DoesNotExist(this.model.name);
    return row;
  }

  /** The newest row by these keys (or Meta.get_latest_by); DoesNotExist when empty. */
  latest(...fields: OrderBy<T['order']>[]): Promise<Row> {
    return this.newest(fields, -1);
  }

  /** The oldest row by these keys (or Meta.get_latest_by); DoesNotExist when empty. */
  earliest(...fields: OrderBy<T['order']>[]): Promise<Row> {
    return this.newest(fields, 1);
  }

  /**
   * `{pk: row}` for these pks (or every row), as Django's in_bulk(); `field_name`
   * keys by another unique column.
   */
  async in_bulk(ids?: readonly PK[] | null, options: { field_name?: T['unique'] } = {}): Promise<Record<string, Row>> {
    if (this.state.offset !== undefined || this.state.limit !== undefined) {
      throw new TypeError("Cannot use 'limit' or 'offset' with in_bulk().");
    }
    const field = options.field_name === undefined || options.field_name === 'pk' ? this.model.pk : options.field_name;
    const key = this.state.fields !== null && options.field_name === 'pk' ? 'pk' : field;
    if (this.state.fields !== null && !this.state.fields.includes(key)) {
      throw new LookupError(`in_bulk(): values() must include '${key}'.`);
    }
    let rows: Row[];
    if (ids === undefined || ids === null) rows = await this.fetch();
    else {
      rows = [];
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += MAX_IN) {
        const chunk = unique.slice(i, i + MAX_IN);
        rows.push(...await this.filter({ [`${field}__in`]: chunk } as T['kwargs']).fetch());
      }
    }
    const out: Record<string, Row> = {};
    for (const row of rows) out[String((row as Raw)[key])] = row;
    return out;
  }

  /**
   * Django's `aggregate()`: `await qs.aggregate({n: Count(), avg: Avg('title_length')})`,
   * one query over this queryset's rows (scopes and filters; the user's row rules
   * apply before aggregating). Ordering and slicing do not apply, as in Django.
   */
  async aggregate<S extends AggregateSpec<T>>(spec: S): Promise<AggregateResult<T, S>> {
    const doc = aggregateDocument(this.model, spec, { filters: this.filterInput(), scopes: this.scopeInput() });
    const data = await clientOf(this.binding).request<Record<string, Record<string, unknown>>>(doc.query, doc.variables);
    return flattenAggregate(spec, data[this.model.roots.aggregate!] ?? {}) as AggregateResult<T, S>;
  }

  /**
   * Django's `values(...).annotate(...)`: `await Article.objects.filter({published: true})
   * .values('author_id').annotate({n: Count(), avg: Avg('title_length')})` is one request
   * (`<model>_group_by`) and one GROUP BY over this queryset's rows (scopes and filters; the
   * user's row rules apply first): a dict per group, its keys then its aggregates, ordered
   * by the keys. The keys are values() columns the server groups by; any other (a span,
   * a file, an annotation) is a compile error. Slice the groups after annotate().
   */
  annotate<S extends AggregateSpec<T>>(spec: S & Groupable<T, Row>): GroupedQuerySet<Row & AggregateResult<T, S>> {
    const { fields, ordering, offset, limit } = this.state;
    if (fields === null) throw new TypeError('annotate() groups the keys of values(): call values(...) first.');
    if (ordering.length) throw new TypeError('annotate(): groups come ordered by their keys; drop the order_by().');
    if (offset !== undefined || limit !== undefined) {
      throw new TypeError('Cannot annotate a query once a slice has been taken; slice the groups instead.');
    }
    const client = clientOf(this.binding);
    const root = this.model.roots.group_by;
    const page = async (at: number, count: number): Promise<(Row & AggregateResult<T, S>)[]> => {
      const doc = groupDocument(this.model, fields, spec, {
        filters: this.filterInput(), scopes: this.scopeInput(), offset: at || undefined, limit: count,
      });
      const data = await client.request<Record<string, Record<string, unknown>[]>>(doc.query, doc.variables);
      return (data[root!] ?? []).map((group) => flattenGroup(spec, group) as Row & AggregateResult<T, S>);
    };
    return new GroupedQuerySet(page, client.pageSize);
  }

  /** `SELECT COUNT(*)`, honouring offset and limit like Django's sliced count. */
  async count(): Promise<number> {
    if (this.state.cache !== null) return this.state.cache.length;
    if (this.state.distinct && this.state.fields !== null) return (await this.distinctValues()).length;
    const doc = countDocument(this.model, this.filterInput(), this.scopeInput());
    const data = await clientOf(this.binding).request<Record<string, number>>(doc.query, doc.variables);
    const total = data[this.model.roots.count!] ?? 0;
    const { offset = 0, limit } = this.state;
    const remaining = Math.max(total - offset, 0);
    return limit === undefined ? remaining : Math.min(remaining, limit);
  }

  async exists(): Promise<boolean> {
    if (this.state.cache !== null) return this.state.cache.length > 0;
    const rows = await this.copy({ limit: 1, fields: [this.model.pk], distinct: false }).fetch();
    return rows.length > 0;
  }

  /** The `<model>_changes` document for this queryset's filter and selection. */
  changesDocument(): Document {
    if (!this.model.roots.changes) throw new Error(`${this.model.name} has no change subscription.`);
    // One node per event: its to-many relations can take the server's largest page.
    if (this.state.scopes.length) throw new Error(`Scopes run on the server's reads only; subscribe with filters.`);
    return changesDocument(this.model, this.filterInput(), this.body(clientOf(this.binding).pageSize));
  }

  /**
   * Live changes of the rows this queryset's filter matches (ordering and slicing
   * do not apply to events). Resumes from the last cursor after a reconnect.
   */
  subscribe(handlers: LiveHandlers<Row>): LiveSubscription {
    const { onEvent } = handlers;
    return clientOf(this.binding).live.subscribe<Row>(this.changesDocument(), this.model.roots.changes!, {
      ...handlers,
      onEvent: onEvent && ((event) => onEvent(this.decodeEvent(event))),
    });
  }

  /** The same as an async iterator: `for await (const event of qs.changes()) ...`. */
  changes(handlers: Omit<LiveHandlers<Row>, 'onEvent'> = {}): AsyncIterableIterator<ChangeEvent<Row>> & {
    subscription: LiveSubscription;
  } {
    const events = clientOf(this.binding).live.iterate<Row>(this.changesDocument(), this.model.roots.changes!, handlers);
    const next = events.next.bind(events);
    events.next = async () => {
      const result = await next();
      return result.done ? result : { done: false, value: this.decodeEvent(result.value) };
    };
    return events;
  }

  /**
   * The rows of this query, kept equal to it as changes commit (filter, order_by,
   * limit, offset): a store to subscribe to, see live_queryset.ts.
   */
  live(options: LiveQueryOptions<Row> = {}): LiveQuerySet<Row> {
    const { schema, model } = this.binding;
    const { offset, limit } = this.state;
    return new LiveQuerySet<Row>({
      schema, model, ordering: this.order('live()'), offset, limit, client: clientOf(this.binding),
      key: JSON.stringify(this.toGraphQL()),
      rows: (count) => this.copy<Row>({ offset: undefined, limit: count }).fetch(),
      subscribe: (handlers) => this.subscribe(handlers),
    }, options);
  }

  /**
   * The order the server reads rows in: order_by()'s, else the model's Meta.ordering
   * (as Django's); the server breaks ties by the pk either way.
   */
  private order(operation: string): OrderInput[] {
    if (this.state.ordering.length) return this.state.ordering;
    const keys = this.model.ordering;
    if (keys === null) {
      throw new TypeError(`${this.model.name}'s Meta.ordering holds an expression: give ${operation} an order_by().`);
    }
    return keys.map((key) => compileOrder(this.binding.schema, this.model, key));
  }

  private bulkFilter(operation: string): FilterInput | undefined {
    if (this.state.offset !== undefined || this.state.limit !== undefined) {
      throw new TypeError(`Cannot ${operation} a query once a slice has been taken.`);
    }
    // The server's bulk writes take filters only: a scope would silently widen the write.
    if (this.state.scopes.length) throw new TypeError(`Cannot ${operation} a scoped query; filter it instead.`);
    return this.filterInput();
  }

  /**
   * Django's `qs.update({...})`: every row of this filter the user may read and
   * change gets the fields (the server runs `full_clean()` on what changed and
   * `save()` per row, so each row sends one event). All or nothing: a refused row
   * rejects with ValidationError (errors carry the row's `index` and `pk`).
   * Resolves to the number of rows changed.
   */
  async update(data: T['update']): Promise<number> {
    const { model } = this.binding;
    if (!model.roots.bulk_update) throw new Error(`${model.name} does not offer bulk updates.`);
    const doc = bulkUpdateDocument(model, this.bulkFilter('update'), data);
    return (await bulkWrite(this.binding, doc, model.roots.bulk_update)).count;
  }

  /**
   * Django's `qs.delete()`: resolves to `[total, {"app.Model": n}]` counting the
   * CASCADE like Django does; refused (FORBIDDEN) when the cascade would delete
   * objects the user may not delete.
   */
  async delete(): Promise<[number, Record<string, number>]> {
    const { model } = this.binding;
    if (!model.roots.bulk_delete) throw new Error(`${model.name} does not offer bulk deletes.`);
    const result = await bulkWrite(this.binding, bulkDeleteDocument(model, this.bulkFilter('delete')),
      model.roots.bulk_delete);
    const perModel = Object.fromEntries(result.deleted.map((d) => [d.model, d.count]));
    return [Object.values(perModel).reduce((a, b) => a + b, 0), perModel];
  }

  /** Event nodes are rows like any other: instances with their relations, or values() dicts. */
  private decodeEvent(event: ChangeEvent<Row>): ChangeEvent<Row> {
    if (!event.node) return event;
    return { ...event, node: this.decode(event.node as Raw) };
  }
}

/** At most this many values in one `__in` (the server's bound). */
const MAX_IN = 1000;

function reverseOrder(item: OrderInput): OrderInput {
  const [[key, value]] = Object.entries(item) as [[string, unknown]];
  if (typeof value === 'object' && value !== null) return { [key]: reverseOrder(value as OrderInput) };
  const direction = String(value);
  const flipped = direction.startsWith('DESC') ? direction.replace('DESC', 'ASC') : direction.replace('ASC', 'DESC');
  const nulls = flipped.endsWith('NULLS_FIRST') ? flipped.replace('NULLS_FIRST', 'NULLS_LAST')
    : flipped.endsWith('NULLS_LAST') ? flipped.replace('NULLS_LAST', 'NULLS_FIRST') : flipped;
  return { [key]: nulls };
}

interface WriteResult {
  ok: boolean;
  pk: string | null;
  errors: FieldError[];
  node: Record<string, unknown> | null;
}

/** One refused row of a bulk write: its position in the call (or its pk) and why. */
export interface RowError extends FieldError {
  index: number;
  pk: string | null;
}

interface BulkResult {
  ok: boolean;
  count: number;
  pks: string[];
  errors: RowError[];
  deleted: { model: string; count: number }[];
  nodes?: (Record<string, unknown> | null)[];
}

async function bulkWrite(binding: Binding, doc: Document, root: string): Promise<BulkResult> {
  const data = await clientOf(binding).request<Record<string, BulkResult>>(doc.query, doc.variables);
  const result = data[root]!;
  if (!result.ok) throw new ValidationError(binding.model.name, result.errors);
  return result;
}

/** Django's `get_or_create(defaults=..., **lookup)`: the lookup and its `defaults`. */
export type GetOrCreateArgs<T extends ModelTypes> = T['lookup'] & { defaults?: T['update'] };
/** Django's `update_or_create(defaults=..., create_defaults=..., **lookup)`. */
export type UpdateOrCreateArgs<T extends ModelTypes> = GetOrCreateArgs<T> & { create_defaults?: T['update'] };

/** A manager with its model's scopes: `Article.objects.published()`. */
export type ScopedManager<T extends ModelTypes> = Manager<T> & ScopeMethods<T, Instance<T>>;

/** `Model.objects`: the entry point for querysets and writes. */
export class Manager<T extends ModelTypes> {
  constructor(protected readonly binding: Binding) {
    attachScopes(this, binding.model, (scope) => {
      const qs = this.base() as unknown as Record<string, (args?: unknown) => unknown>;
      const [name, args] = Object.entries(scope)[0]!;
      return qs[name]!(args === true ? undefined : args);
    });
  }

  /** The same manager on another client (Django's `using()` picks a database; this picks a server). */
  using(client: Client): ScopedManager<T> {
    return new Manager<T>({ ...this.binding, client }) as ScopedManager<T>;
  }

  protected base(): Scoped<T> {
    return new QuerySet<T>(this.binding) as Scoped<T>;
  }

  all(): Scoped<T> {
    return this.base();
  }
  filter(...conditions: Condition<T>[]): Scoped<T> {
    return this.base().filter(...conditions);
  }
  exclude(...conditions: Condition<T>[]): Scoped<T> {
    return this.base().exclude(...conditions);
  }
  where(filter: T['where']): Scoped<T> {
    return this.base().where(filter);
  }
  order_by(...keys: OrderBy<T['order']>[]): Scoped<T> {
    return this.base().order_by(...keys);
  }
  values(): Scoped<T, T['fields']>;
  values<K extends keyof T['values'] & string>(...fields: K[]): Scoped<T, Pick<T['values'], K>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above say what it returns
  values(...fields: string[]): Scoped<T, any> {
    return (this.base().values as (...f: string[]) => Scoped<T, unknown>)(...fields);
  }
  select_related<P extends T['select']>(first: P, ...paths: P[]): Scoped<T, Override<Instance<T>, Related<T, P>>> {
    return this.base().select_related(first, ...paths);
  }
  prefetch_related<P extends T['prefetch']>(first: P, ...paths: P[]): Scoped<T, Override<Instance<T>, Related<T, P>>> {
    return this.base().prefetch_related(first, ...paths);
  }
  distinct(): Scoped<T> {
    return this.base().distinct();
  }
  get(...conditions: Condition<T>[]): Promise<Instance<T>> {
    return this.base().get(...conditions);
  }
  first(): Promise<Instance<T> | null> {
    return this.base().first();
  }
  last(): Promise<Instance<T> | null> {
    return this.base().last();
  }
  latest(...fields: OrderBy<T['order']>[]): Promise<Instance<T>> {
    return this.base().latest(...fields);
  }
  earliest(...fields: OrderBy<T['order']>[]): Promise<Instance<T>> {
    return this.base().earliest(...fields);
  }
  in_bulk(ids?: readonly PK[] | null, options: { field_name?: T['unique'] } = {}): Promise<Record<string, Instance<T>>> {
    return this.base().in_bulk(ids, options);
  }
  count(): Promise<number> {
    return this.base().count();
  }
  aggregate<S extends AggregateSpec<T>>(spec: S): Promise<AggregateResult<T, S>> {
    return this.base().aggregate(spec);
  }
  exists(): Promise<boolean> {
    return this.base().exists();
  }
  subscribe(handlers: LiveHandlers<Instance<T>>): LiveSubscription {
    return this.base().subscribe(handlers);
  }

  private async write(doc: Document, root: string | undefined): Promise<Instance<T>> {
    const { model } = this.binding;
    if (!root) throw new Error(`${model.name} does not offer this mutation.`);
    const data = await clientOf(this.binding).request<Record<string, WriteResult>>(doc.query, doc.variables);
    const result = data[root]!;
    if (!result.ok) {
      const missing = result.errors.find((e) => e.field === 'pk' && e.code === 'not_found');
      if (missing) throw new DoesNotExist(model.name, missing.message);
      throw new ValidationError(model.name, result.errors);
    }
    return hydrate(this.binding, result.node ?? { [model.pk]: result.pk }, {}) as Instance<T>;
  }

  /** Create a row (the server runs `full_clean()`); rejects with ValidationError<field names>. */
  create(data: T['create']): Promise<Instance<T>> {
    const { model } = this.binding;
    return this.write(createDocument(model, data, null), model.roots.create);
  }

  /** Change the given fields of one row; DoesNotExist if it is gone, ValidationError if refused. */
  update(pk: PK, data: T['update']): Promise<Instance<T>> {
    const { model } = this.binding;
    return this.write(updateDocument(model, pk, data, null), model.roots.update);
  }

  /** Delete one row; resolves to the row as it was. */
  delete(pk: PK): Promise<Instance<T>> {
    const { model } = this.binding;
    return this.write(deleteDocument(model, pk, null), model.roots.delete);
  }
  /**
   * Create many rows in one transaction (each validated and saved, one event per
   * row); all or nothing. Resolves to the rows in order (`null` where the user
   * may not read a created row). At most the server's BULK_MAX_ROWS per call.
   */
  async bulk_create(rows: readonly T['create'][]): Promise<(Instance<T> | null)[]> {
    const { model } = this.binding;
    if (!model.roots.bulk_create) throw new Error(`${model.name} does not offer bulk creates.`);
    const result = await bulkWrite(this.binding, bulkCreateDocument(model, rows, null), model.roots.bulk_create);
    return (result.nodes ?? []).map((node) => (node ? hydrate(this.binding, node, {}) as Instance<T> : null));
  }

  private async upsert(op: 'get_or_create' | 'update_or_create',
    args: UpdateOrCreateArgs<T>): Promise<[Instance<T>, boolean]> {
    const { model } = this.binding;
    const root = model.roots[op];
    if (!root) throw new Error(`${model.name} does not offer ${op}.`);
    const { defaults, create_defaults: createDefaults, ...lookup } = args as Record<string, unknown>;
    const doc = upsertDocument(model, op, lookup, defaults as object | undefined,
      createDefaults as object | undefined, null);
    const data = await clientOf(this.binding).request<Record<string, WriteResult & { created: boolean }>>(
      doc.query, doc.variables);
    const result = data[root]!;
    if (!result.ok) throw new ValidationError(model.name, result.errors);
    return [hydrate(this.binding, result.node ?? { [model.pk]: result.pk }, {}) as Instance<T>, result.created];
  }

  /**
   * Django's `get_or_create`: `[obj, created]`. The lookup names unique fields
   * (`{name: 'go', defaults: {...}}`); an existing row is returned when the user may
   * read it, otherwise one is created (which needs the add permission).
   */
  get_or_create(args: GetOrCreateArgs<T>): Promise<[Instance<T>, boolean]> {
    return this.upsert('get_or_create', args);
  }

  /** Django's `update_or_create` (an upsert on unique fields): `[obj, created]`. */
  update_or_create(args: UpdateOrCreateArgs<T>): Promise<[Instance<T>, boolean]> {
    return this.upsert('update_or_create', args);
  }
}

/**
 * `user.article_set`, `article.tags`: the target's manager restricted to rows
 * related to one owner, through the relation leading back (`{author: {id: 5}}`).
 */
export class RelatedManager<T extends ModelTypes> extends Manager<T> {
  private readonly owner: Binding;
  private readonly accessor: string;
  private readonly ownerPk: PK;

  constructor(owner: Binding, accessor: string, ownerPk: PK) {
    super(bindingOf(owner, accessor));
    this.owner = owner;
    this.accessor = accessor;
    this.ownerPk = ownerPk;
  }

  override using(client: Client): RelatedManager<T> & ScopeMethods<T, Instance<T>> {
    return new RelatedManager<T>({ ...this.owner, client }, this.accessor, this.ownerPk) as
      RelatedManager<T> & ScopeMethods<T, Instance<T>>;
  }

  protected override base(): Scoped<T> {
    const relation = this.owner.model.relations[this.accessor]!;
    const back = { [relation.reverse!]: { [this.owner.model.pk]: { exact: this.ownerPk } } };
    return new QuerySet<T>(this.binding, { ...EMPTY, filters: [back], sticky: true }) as Scoped<T>;
  }

  /** Reverse foreign key: create a row pointing at the owner (`user.article_set.create({...})`). */
  override create(data: Partial<T['create']>): Promise<Instance<T>> {
    const relation = this.owner.model.relations[this.accessor]!;
    if (relation.kind !== 'reverse_many') return super.create(data as T['create']);
    return super.create(merge(data as FilterInput, { [relation.reverse!]: this.ownerPk }) as T['create']);
  }

  private async changeM2M(op: 'add' | 'remove' | 'set', pks: PK[]): Promise<void> {
    const relation = this.owner.model.relations[this.accessor]!;
    if (relation.kind !== 'm2m') throw new Error(`${this.accessor} is not a many-to-many relation.`);
    const manager = new Manager<ModelTypes>(this.owner);
    await manager.update(this.ownerPk, { [this.accessor]: { [op]: pks.map(String) } });
  }

  /** Many-to-many: link rows by pk (`article.tags.add(1, 2)`). */
  add(...pks: PK[]): Promise<void> {
    return this.changeM2M('add', pks);
  }
  remove(...pks: PK[]): Promise<void> {
    return this.changeM2M('remove', pks);
  }
  set(pks: PK[]): Promise<void> {
    return this.changeM2M('set', pks);
  }
}

/**
 * A to-many relation fetched with its parent (`prefetch_related`): `cached` holds
 * its rows, `all()` answers from them without a request; a further filter() asks
 * the server, as Django's prefetch cache does.
 */
export class PrefetchedManager<T extends ModelTypes> extends RelatedManager<T> {
  constructor(owner: Binding, accessor: string, ownerPk: PK, readonly cached: readonly Instance<T>[],
    private readonly tree: RelatedTree) {
    super(owner, accessor, ownerPk);
  }

  override all(): Scoped<T> {
    return this.base().withRelated(this.tree).withCache(this.cached);
  }

  /** JSON.stringify(article) gives `tags: [...]`, the rows as the server sent them. */
  toJSON(): readonly Instance<T>[] {
    return this.cached;
  }
}

/** A prefetched relation as its rows' type says: `cached` and `all()` carry the nested relations. */
export type Prefetched<T extends ModelTypes, Row> = Omit<PrefetchedManager<T>, 'all' | 'cached' | 'toJSON'> & {
  readonly cached: readonly Row[];
  all(): QuerySet<T, Row>;
  toJSON(): readonly Row[];
};

/** What the generator exports per model: `Article.objects`, `Article.Q(...)`, its metadata. */
export interface Model<T extends ModelTypes> {
  readonly objects: ScopedManager<T>;
  readonly meta: ModelMeta;
  /** Django's Q for this model: `Article.Q({title__icontains: 'x'}).or({published: false})`. */
  Q(kwargs: T['kwargs']): Q<T>;
}

export function defineModel<T extends ModelTypes>(schema: SchemaMeta, name: string): Model<T> {
  const model = schema.models[name];
  if (!model) throw new Error(`Unknown model ${name}`);
  return { objects: new Manager<T>({ schema, model, client: null }) as ScopedManager<T>, meta: model, Q: (kwargs) => Q.of<T>(kwargs) };
}
