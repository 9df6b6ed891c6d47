/**
 * QuerySet pieces compiled to GraphQL: pure functions, so they are snapshot-tested
 * without a server. Kwargs follow Django: `author__username__iexact` walks the
 * relation `author`, then the column `username`, then the lookup `iexact`; a path
 * that ends on a relation compares the target's primary key (`author: 5`).
 */
import { computedColumns } from './computed.js';
import { LookupError } from './protocol.js';
import { relationByQuery } from './selection.js';
import type { ModelMeta, SchemaMeta } from './types.js';

export type FilterInput = { [key: string]: unknown };
export type OrderInput = { [key: string]: unknown };
/** One scope call: `{published: true}` or `{by_author: {user: 3}}`. */
export type ScopeInput = { [scope: string]: unknown };

/** Values as GraphQL variables carry them: dates as ISO 8601 strings. */
function wire(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(wire);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge: two keys on the same relation share one join, as in one Django filter() call. */
export function merge(a: FilterInput, b: FilterInput): FilterInput {
  const out: FilterInput = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? merge(prev, value) : value;
  }
  return out;
}

function lookups(schema: SchemaMeta, set: string, parts: string[], value: unknown, key: string): FilterInput {
  const meta = schema.lookups[set];
  if (meta === undefined) throw new LookupError(`'${key}': unknown lookup set ${set}.`);
  const [head, ...rest] = parts;
  // `x: null` and `x__exact: null` mean IS NULL in Django; GraphQL would ignore a null exact.
  if (head === undefined || (head === 'exact' && rest.length === 0)) {
    return value === null ? { isnull: true } : { exact: wire(value) };
  }
  const transform = meta.transforms[head];
  if (transform !== undefined) return { [head]: lookups(schema, transform, rest, value, key) };
  if (rest.length === 0 && meta.lookups.includes(head)) return { [head]: wire(value) };
  throw new LookupError(`'${key}': '${head}' is not a lookup of this field (it has ${meta.lookups.join(', ')}).`);
}

function path(schema: SchemaMeta, model: ModelMeta, parts: string[], value: unknown, key: string): FilterInput {
  const [head = '', ...rest] = parts;
  const name = head === 'pk' ? model.pk : head;
  const found = relationByQuery(model, name);
  if (found !== undefined) {
    const [accessor, relation] = found;
    const target = schema.models[relation.target]!;
    const next = rest[0];
    const continues = next !== undefined && (next === 'pk' || next in target.fields
      || relationByQuery(target, next) !== undefined);
    const pkSet = schema.lookups[target.fields[target.pk]!];
    if (next !== undefined && !continues && !pkSet?.lookups.includes(next) && !(next in (pkSet?.transforms ?? {}))) {
      throw new LookupError(`${target.name} has no field '${next}' (in '${key}').`);
    }
    // `author__isnull`, `comment__isnull`: no row on the other side, as Django's join says.
    return { [accessor]: path(schema, target, continues ? rest : [target.pk, ...rest], value, key) };
  }
  const set = model.fields[name];
  if (set === undefined) {
    const accessor = model.relations[name];
    const hint = accessor ? ` (Django's lookups name it '${accessor.query}')` : '';
    throw new LookupError(`${model.name} has no field '${head}'${hint} (in '${key}').`);
  }
  return { [name]: lookups(schema, set, rest, value, key) };
}

/** `{title__icontains: 'x', author__username: 'ada'}` -> `{title: {icontains: 'x'}, author: {username: {exact: 'ada'}}}`. */
export function compileKwargs(schema: SchemaMeta, model: ModelMeta, kwargs: object): FilterInput {
  let out: FilterInput = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (value === undefined) continue;
    out = merge(out, path(schema, model, key.split('__'), value, key));
  }
  return out;
}

/** `'-author__username'` -> `{author: {username: 'DESC'}}` (one key per item, as the server wants). */
export function compileOrder(schema: SchemaMeta, model: ModelMeta, key: string): OrderInput {
  const descending = key.startsWith('-');
  const parts = (descending ? key.slice(1) : key).split('__');
  const direction = descending ? 'DESC' : 'ASC';
  const walk = (meta: ModelMeta, [head = '', ...rest]: string[]): OrderInput => {
    const name = head === 'pk' ? meta.pk : head;
    const found = relationByQuery(meta, name);
    if (found !== undefined && !found[1].many) {
      const target = schema.models[found[1].target]!;
      return { [found[0]]: walk(target, rest.length ? rest : [target.pk]) };
    }
    if (name in meta.fields && rest.length === 0) return { [name]: direction };
    throw new LookupError(`Cannot order ${model.name} by '${key}'.`);
  };
  return walk(model, parts);
}

/** The selection of a row: every column and computed property by default, files as `{name url}`. */
export function selection(model: ModelMeta, fields: readonly string[] | null): string {
  const properties = computedColumns(model);
  return (fields ?? [...Object.keys(model.fields), ...properties.filter((p) => !(p in model.fields))])
    .map((f) => {
      if (!(f in model.fields) && !properties.includes(f)) throw new LookupError(`${model.name} has no field '${f}'.`);
      return model.files.includes(f) ? `${f} { name url }` : f;
    })
    .join(' ');
}

export interface Document {
  query: string;
  variables: Record<string, unknown>;
}

/** `query` with only the variables that are set, so `toGraphQL()` reads like hand-written GraphQL. */
function operation(
  kind: 'query' | 'mutation' | 'subscription',
  field: string,
  types: Record<string, string>,
  variables: Record<string, unknown>,
  body: string | null,
  always: readonly string[] = [],
): Document {
  const used = Object.keys(types).filter((k) => variables[k] !== undefined || always.includes(k));
  const defs = used.map((k) => `$${k}: ${types[k]}`).join(', ');
  const args = used.map((k) => `${k}: $${k}`).join(', ');
  const vars: Record<string, unknown> = {};
  for (const k of used) if (variables[k] !== undefined) vars[k] = variables[k];
  const head = `${kind} ${field}${defs ? `(${defs})` : ''}`;
  const call = `${field}${args ? `(${args})` : ''}`;
  return { query: `${head} { ${call}${body ? ` { ${body} }` : ''} }`, variables: vars };
}

export interface ListArgs {
  scopes?: ScopeInput[] | undefined;
  filters?: FilterInput | undefined;
  ordering?: OrderInput[] | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

/** A list query; `body` is the row's selection (see selection.ts). */
export function listDocument(model: ModelMeta, args: ListArgs, body: string): Document {
  const { filter, order } = model.inputs;
  return operation(
    'query', model.roots.list!,
    { ...scopeType(model), filters: filter, ordering: `[${order}!]`, offset: 'Int', limit: 'Int' },
    { ...args }, body,
  );
}

export function countDocument(model: ModelMeta, filters: FilterInput | undefined,
  scopes?: ScopeInput[] | undefined): Document {
  return operation('query', model.roots.count!, { ...scopeType(model), filters: model.inputs.filter },
    { scopes, filters }, null);
}

/** The `scopes` variable's type, for models that have scopes. */
function scopeType(model: ModelMeta): Record<string, string> {
  return model.inputs.scope ? { scopes: `[${model.inputs.scope}!]` } : {};
}

const WRITE_RESULT = (body: string) => `ok pk errors { field message code } node { ${body} }`;

export function createDocument(model: ModelMeta, data: object, fields: readonly string[] | null): Document {
  return operation('mutation', model.roots.create!, { data: `${model.inputs.create}!` }, { data },
    WRITE_RESULT(selection(model, fields)));
}

export function updateDocument(model: ModelMeta, pk: string | number, data: object,
  fields: readonly string[] | null): Document {
  return operation('mutation', model.roots.update!, { pk: 'ID!', data: `${model.inputs.update}!` },
    { pk, data }, WRITE_RESULT(selection(model, fields)));
}

export function deleteDocument(model: ModelMeta, pk: string | number, fields: readonly string[] | null): Document {
  return operation('mutation', model.roots.delete!, { pk: 'ID!' }, { pk }, WRITE_RESULT(selection(model, fields)));
}

const BULK_RESULT = 'ok count pks errors { index pk field message code } deleted { model count }';

/** `bulk_update_<model>(filters, data)`: Django's `qs.update(...)`. */
export function bulkUpdateDocument(model: ModelMeta, filters: FilterInput | undefined, data: object): Document {
  return operation('mutation', model.roots.bulk_update!, { filters: `${model.inputs.filter}!`, data: `${model.inputs.update}!` },
    { filters: filters ?? {}, data }, BULK_RESULT);
}

/** `bulk_delete_<model>(filters)`: Django's `qs.delete()`. */
export function bulkDeleteDocument(model: ModelMeta, filters: FilterInput | undefined): Document {
  return operation('mutation', model.roots.bulk_delete!, { filters: `${model.inputs.filter}!` },
    { filters: filters ?? {} }, BULK_RESULT);
}

/** `bulk_create_<model>(data: [...])`. */
export function bulkCreateDocument(model: ModelMeta, rows: readonly object[], fields: readonly string[] | null): Document {
  return operation('mutation', model.roots.bulk_create!, { data: `[${model.inputs.create}!]!` }, { data: rows },
    `${BULK_RESULT} nodes { ${selection(model, fields)} }`);
}

/** `get_or_create_<model>` / `update_or_create_<model>(lookup, defaults, create_defaults)`. */
export function upsertDocument(model: ModelMeta, op: 'get_or_create' | 'update_or_create', lookup: object,
  defaults: object | undefined, createDefaults: object | undefined, fields: readonly string[] | null): Document {
  const types: Record<string, string> = { lookup: `${model.inputs.lookup}!`, defaults: model.inputs.update! };
  if (op === 'update_or_create') types.create_defaults = model.inputs.update!;
  return operation('mutation', model.roots[op]!, types,
    { lookup, defaults, create_defaults: createDefaults },
    `ok created pk errors { field message code } node { ${selection(model, fields)} }`);
}

/** `<model>_changes(filters, after)`; `after` is always declared so a resume can fill it in. */
export function changesDocument(model: ModelMeta, filters: FilterInput | undefined, body: string): Document {
  return operation(
    'subscription', model.roots.changes!, { filters: model.inputs.filter, after: 'String' },
    { filters }, `op cursor pk changed_fields node { ${body} }`, ['after'],
  );
}
