/**
 * Django's QuerySet and managers, compiled to GraphQL. A QuerySet is immutable
 * (every method returns a copy) and thenable (`await qs` runs it), so it can be
 * built up, passed around and reused like the Python one.
 */
import type { Client } from './client.js';
import { getDefaultClient } from './client.js';
import { callMethod } from './computed.js';
import {
  bulkCreateDocument, bulkDeleteDocument, bulkUpdateDocument, changesDocument, compileKwargs, compileOrder,
  countDocument, createDocument, deleteDocument, listDocument, merge, updateDocument, upsertDocument,
  type Document, type FilterInput, type OrderInput,
} from './compile.js';
import type { LiveHandlers, LiveSubscription } from './live.js';
import { LiveQuerySet, type LiveQueryOptions } from './live_queryset.js';
import { DoesNotExist, MultipleObjectsReturned, ValidationError, type ChangeEvent, type FieldError } from './protocol.js';
import type { ModelMeta, ModelTypes, OrderBy, SchemaMeta } from './types.js';

/** A row with its relation managers (`user.article_set`) and model methods, as `all()` returns it. */
export type Instance<T extends ModelTypes> = T['fields'] & {
  readonly [K in keyof T['related']]: T['related'][K] extends ModelTypes ? RelatedManager<T['related'][K]> : never;
} & (T extends { methods: infer M } ? Readonly<M> : unknown);

/** The pk as filters and mutations accept it. */
export type PK = string | number;

interface State {
  filters: FilterInput[];
  ordering: OrderInput[];
  offset: number | undefined;
  limit: number | undefined;
  fields: readonly string[] | null;
}

const EMPTY: State = { filters: [], ordering: [], offset: undefined, limit: undefined, fields: null };

/** Where a queryset runs: the model, the schema it belongs to, and (maybe) a client. */
export interface Binding {
  schema: SchemaMeta;
  model: ModelMeta;
  client: Client | null;
}

function clientOf(binding: Binding): Client {
  return binding.client ?? getDefaultClient();
}

/**
 * Rows come back as plain objects; instances get a prototype whose getters build
 * relation managers, so `JSON.stringify(row)` stays exactly the server's data.
 */
const prototypes = new WeakMap<ModelMeta, Map<Client | null, object>>();
function hydrate(binding: Binding, row: Record<string, unknown>): object {
  let byClient = prototypes.get(binding.model);
  if (!byClient) prototypes.set(binding.model, (byClient = new Map()));
  let proto = byClient.get(binding.client);
  if (!proto) {
    proto = {};
    for (const [name, relation] of Object.entries(binding.model.relations)) {
      if (!relation.many || relation.reverse === null) continue;
      Object.defineProperty(proto, name, {
        get(this: Record<string, unknown>) {
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
    byClient.set(binding.client, proto);
  }
  return Object.assign(Object.create(proto) as object, row);
}

export class QuerySet<T extends ModelTypes, Row = Instance<T>> implements PromiseLike<Row[]> {
  constructor(
    protected readonly binding: Binding,
    private readonly state: State = EMPTY,
  ) {}

  private copy(changes: Partial<State>): QuerySet<T, Row> {
    return new QuerySet<T, Row>(this.binding, { ...this.state, ...changes });
  }

  /** The model's metadata (Django's `qs.model`). */
  get model(): ModelMeta {
    return this.binding.model;
  }

  /** Rows matching every keyword (Django lookups: `title__icontains`, `author__username`...). */
  filter(kwargs: T['kwargs']): QuerySet<T, Row> {
    return this.copy({ filters: [...this.state.filters, compileKwargs(this.binding.schema, this.model, kwargs)] });
  }

  /** Rows NOT matching all of the keywords together. */
  exclude(kwargs: T['kwargs']): QuerySet<T, Row> {
    return this.copy({
      filters: [...this.state.filters, { NOT: compileKwargs(this.binding.schema, this.model, kwargs) }],
    });
  }

  /** A raw GraphQL filter input, for OR and deep nesting: `where({OR: [{...}, {...}]})`. */
  where(filter: T['where']): QuerySet<T, Row> {
    return this.copy({ filters: [...this.state.filters, filter as FilterInput] });
  }

  all(): QuerySet<T, Row> {
    return this;
  }

  /** Replaces the ordering, like Django: `order_by('-created_at', 'title')`. */
  order_by(...keys: OrderBy<T['order']>[]): QuerySet<T, Row> {
    return this.copy({ ordering: keys.map((k) => compileOrder(this.binding.schema, this.model, k)) });
  }

  /** At most n rows (Python's `qs[:n]`). */
  limit(n: number): QuerySet<T, Row> {
    return this.copy({ limit: n });
  }

  /** Skip n rows (Python's `qs[n:]`). */
  offset(n: number): QuerySet<T, Row> {
    return this.copy({ offset: n });
  }

  /** Only these columns, as plain objects: the result type narrows to them. */
  values<K extends keyof T['fields'] & string>(...fields: K[]): QuerySet<T, Pick<T['fields'], K>> {
    return new QuerySet<T, Pick<T['fields'], K>>(this.binding, { ...this.state, fields });
  }

  /** The combined filter input (undefined when unfiltered). */
  protected filterInput(): FilterInput | undefined {
    const { filters } = this.state;
    if (filters.length === 0) return undefined;
    return filters.length === 1 ? filters[0] : { AND: filters };
  }

  /** The document and variables this queryset runs: reuse them with Apollo, urql, fetch... */
  toGraphQL(): Document {
    const { ordering, offset, limit, fields } = this.state;
    return listDocument(this.model, {
      filters: this.filterInput(),
      ordering: ordering.length ? ordering : undefined,
      offset,
      limit,
    }, fields);
  }

  private async page(offset: number | undefined, limit: number | undefined): Promise<Row[]> {
    const { ordering, fields } = this.state;
    const doc = listDocument(this.model, {
      filters: this.filterInput(), ordering: ordering.length ? ordering : undefined, offset, limit,
    }, fields);
    const data = await clientOf(this.binding).request<Record<string, Record<string, unknown>[]>>(doc.query, doc.variables);
    const rows = data[this.model.roots.list!] ?? [];
    return (fields === null ? rows.map((r) => hydrate(this.binding, r)) : rows) as Row[];
  }

  /**
   * Run the query. Without a limit every row is fetched, in pages of the client's
   * `pageSize` (the server caps one page), as Django's unsliced queryset would.
   */
  async fetch(): Promise<Row[]> {
    const { offset, limit } = this.state;
    if (limit !== undefined) return this.page(offset, limit);
    const size = clientOf(this.binding).pageSize;
    const rows: Row[] = [];
    for (let start = offset ?? 0; ; start += size) {
      const page = await this.page(start || undefined, size);
      rows.push(...page);
      if (page.length < size) return rows;
    }
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
  async get(kwargs?: T['kwargs']): Promise<Row> {
    const qs = kwargs ? this.filter(kwargs) : this;
    const rows = await qs.copy({ limit: 2 }).fetch();
    if (rows.length === 0) throw new DoesNotExist(this.model.name);
    if (rows.length > 1) throw new MultipleObjectsReturned(this.model.name);
    return rows[0]!;
  }

  /** The first row in the queryset's order (the model's default order when unordered), or null. */
  async first(): Promise<Row | null> {
    const rows = await this.copy({ limit: 1 }).fetch();
    return rows[0] ?? null;
  }

  /** `SELECT COUNT(*)`, honouring offset and limit like Django's sliced count. */
  async count(): Promise<number> {
    const doc = countDocument(this.model, this.filterInput());
    const data = await clientOf(this.binding).request<Record<string, number>>(doc.query, doc.variables);
    const total = data[this.model.roots.count!] ?? 0;
    const { offset = 0, limit } = this.state;
    const remaining = Math.max(total - offset, 0);
    return limit === undefined ? remaining : Math.min(remaining, limit);
  }

  async exists(): Promise<boolean> {
    const rows = await this.copy({ limit: 1, fields: [this.model.pk] }).fetch();
    return rows.length > 0;
  }

  /** The `<model>_changes` document for this queryset's filter and selection. */
  changesDocument(): Document {
    if (!this.model.roots.changes) throw new Error(`${this.model.name} has no change subscription.`);
    return changesDocument(this.model, this.filterInput(), this.state.fields);
  }

  /**
   * Live changes of the rows this queryset's filter matches (ordering and slicing
   * do not apply to events). Resumes from the last cursor after a reconnect.
   */
  subscribe(handlers: LiveHandlers<Row>): LiveSubscription {
    const { onEvent } = handlers;
    return clientOf(this.binding).live.subscribe<Row>(this.changesDocument(), this.model.roots.changes!, {
      ...handlers,
      onEvent: onEvent && ((event) => onEvent(this.hydrateEvent(event))),
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
      return result.done ? result : { done: false, value: this.hydrateEvent(result.value) };
    };
    return events;
  }

  /**
   * The rows of this query, kept equal to it as changes commit (filter, order_by,
   * limit, offset): a store to subscribe to, see live_queryset.ts.
   */
  live(options: LiveQueryOptions<Row> = {}): LiveQuerySet<Row> {
    const { schema, model } = this.binding;
    const { ordering, offset, limit } = this.state;
    return new LiveQuerySet<Row>({
      schema, model, ordering, offset, limit, client: clientOf(this.binding),
      key: JSON.stringify(this.toGraphQL()),
      rows: (count) => this.copy({ offset: undefined, limit: count }).fetch(),
      subscribe: (handlers) => this.subscribe(handlers),
    }, options);
  }

  private bulkFilter(operation: string): FilterInput | undefined {
    if (this.state.offset !== undefined || this.state.limit !== undefined) {
      throw new TypeError(`Cannot ${operation} a query once a slice has been taken.`);
    }
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

  /** Event nodes are rows like any other: full rows get their relation managers. */
  private hydrateEvent(event: ChangeEvent<Row>): ChangeEvent<Row> {
    if (this.state.fields !== null || !event.node) return event;
    return { ...event, node: hydrate(this.binding, event.node as Record<string, unknown>) as Row };
  }
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

/** `Model.objects`: the entry point for querysets and writes. */
export class Manager<T extends ModelTypes> {
  constructor(protected readonly binding: Binding) {}

  /** The same manager on another client (Django's `using()` picks a database; this picks a server). */
  using(client: Client): Manager<T> {
    return new Manager<T>({ ...this.binding, client });
  }

  protected base(): QuerySet<T> {
    return new QuerySet<T>(this.binding);
  }

  all(): QuerySet<T> {
    return this.base();
  }
  filter(kwargs: T['kwargs']): QuerySet<T> {
    return this.base().filter(kwargs);
  }
  exclude(kwargs: T['kwargs']): QuerySet<T> {
    return this.base().exclude(kwargs);
  }
  where(filter: T['where']): QuerySet<T> {
    return this.base().where(filter);
  }
  order_by(...keys: OrderBy<T['order']>[]): QuerySet<T> {
    return this.base().order_by(...keys);
  }
  values<K extends keyof T['fields'] & string>(...fields: K[]): QuerySet<T, Pick<T['fields'], K>> {
    return this.base().values(...fields);
  }
  get(kwargs?: T['kwargs']): Promise<Instance<T>> {
    return this.base().get(kwargs);
  }
  first(): Promise<Instance<T> | null> {
    return this.base().first();
  }
  count(): Promise<number> {
    return this.base().count();
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
    return hydrate(this.binding, result.node ?? { [model.pk]: result.pk }) as Instance<T>;
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
    return (result.nodes ?? []).map((node) => (node ? hydrate(this.binding, node) as Instance<T> : null));
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
    return [hydrate(this.binding, result.node ?? { [model.pk]: result.pk }) as Instance<T>, result.created];
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
    const relation = owner.model.relations[accessor]!;
    const target = owner.schema.models[relation.target]!;
    super({ schema: owner.schema, model: target, client: owner.client });
    this.owner = owner;
    this.accessor = accessor;
    this.ownerPk = ownerPk;
  }

  override using(client: Client): RelatedManager<T> {
    return new RelatedManager<T>({ ...this.owner, client }, this.accessor, this.ownerPk);
  }

  protected override base(): QuerySet<T> {
    const relation = this.owner.model.relations[this.accessor]!;
    const back = { [relation.reverse!]: { [this.owner.model.pk]: { exact: this.ownerPk } } };
    return new QuerySet<T>(this.binding).where(back as T['where']);
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

/** What the generator exports per model: `Article.objects`, plus its metadata. */
export interface Model<T extends ModelTypes> {
  readonly objects: Manager<T>;
  readonly meta: ModelMeta;
}

export function defineModel<T extends ModelTypes>(schema: SchemaMeta, name: string): Model<T> {
  const model = schema.models[name];
  if (!model) throw new Error(`Unknown model ${name}`);
  return { objects: new Manager<T>({ schema, model, client: null }), meta: model };
}
