/**
 * What a queryset selects and how its rows come back: every column, the relations
 * `select_related()` / `prefetch_related()` named (nested in the same document), or
 * the `values()` paths (`author__username`), flattened to Django's dict keys.
 * Pure functions over the generated metadata, snapshot-tested without a server.
 */
import { computedColumns } from './computed.js';
import { LookupError } from './protocol.js';
import type { ModelMeta, RelationMeta, SchemaMeta } from './types.js';

/** Accessor -> what to fetch below it: `{comment_set: {author: {}}}`. */
export interface RelatedTree {
  readonly [accessor: string]: RelatedTree;
}

/** Rows of a to-many relation fetched with their parent, per parent (the server's default page). */
export const NESTED_PAGE = 100;

const byQueryName = new WeakMap<ModelMeta, Map<string, string>>();

/** The relation a lookup names (Django's related query name: `comment` for `comment_set`). */
export function relationByQuery(model: ModelMeta, name: string): [string, RelationMeta] | undefined {
  let names = byQueryName.get(model);
  if (!names) {
    names = new Map(Object.entries(model.relations).map(([accessor, r]) => [r.query, accessor]));
    byQueryName.set(model, names);
  }
  const accessor = names.get(name);
  return accessor === undefined ? undefined : [accessor, model.relations[accessor]!];
}

/**
 * Add `__`-joined relation paths (accessors, as Django's select_related and
 * prefetch_related spell them) to a tree; `toOne` refuses to-many steps, as
 * select_related does.
 */
export function addPaths(schema: SchemaMeta, model: ModelMeta, tree: RelatedTree, paths: readonly string[],
  toOne: boolean): RelatedTree {
  const add = (meta: ModelMeta, node: RelatedTree, [head = '', ...rest]: string[], path: string): RelatedTree => {
    const relation = meta.relations[head];
    if (relation === undefined) throw new LookupError(`${meta.name} has no relation '${head}' (in '${path}').`);
    if (toOne && relation.many) {
      throw new LookupError(`select_related('${path}'): '${head}' is a to-many relation; use prefetch_related.`);
    }
    const below = node[head] ?? {};
    const next = rest.length ? add(schema.models[relation.target]!, below, rest, path) : below;
    return { ...node, [head]: next };
  };
  return paths.reduce((acc, path) => add(model, acc, path.split('__'), path), tree);
}

/** A row's own values: columns, then computed properties (annotations are columns already). */
function columns(model: ModelMeta): string[] {
  const own = Object.keys(model.fields);
  const computed = computedColumns(model).filter((c) => !(c in model.fields));
  return [...own.map((f) => (model.files.includes(f) ? `${f} { name url }` : f)), ...computed];
}

/** Every column, and below each named relation its own selection. */
export function treeSelection(schema: SchemaMeta, model: ModelMeta, tree: RelatedTree, nested: number): string {
  const parts = columns(model);
  for (const [accessor, below] of Object.entries(tree)) {
    const relation = model.relations[accessor]!;
    const body = treeSelection(schema, schema.models[relation.target]!, below, nested);
    if (relation.many) parts.push(`${accessor}(limit: ${nested}) { ${body} }`, `${accessor}_count`);
    else parts.push(`${accessor} { ${body} }`);
  }
  return parts.join(' ');
}

/**
 * About how many values one row costs the server's complexity limit (each field
 * once per row, a nested list's fields once per nested row), as api_graphql.limits
 * counts them: a page is sized to stay under the limit.
 */
export function treeCost(schema: SchemaMeta, model: ModelMeta, tree: RelatedTree, nested: number): number {
  let cost = columns(model).length + model.files.length * 2;
  for (const [accessor, below] of Object.entries(tree)) {
    const relation = model.relations[accessor]!;
    const inner = treeCost(schema, schema.models[relation.target]!, below, nested);
    cost += relation.many ? 2 + nested * inner : 1 + inner;
  }
  return cost;
}

/** One `values()` key resolved: the relations to walk and the column at the end. */
interface ValuePath {
  key: string;
  relations: string[];
  column: string;
}

function resolveValue(schema: SchemaMeta, model: ModelMeta, key: string): ValuePath {
  const relations: string[] = [];
  let meta = model;
  const parts = key.split('__');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === 'pk' && last) return { key, relations, column: meta.pk };
    if (last && (part in meta.fields || computedColumns(meta).includes(part))) return { key, relations, column: part };
    const found = relationByQuery(meta, part);
    if (found === undefined || found[1].many) {
      const why = found ? `'${part}' is a to-many relation` : `${meta.name} has no field '${part}'`;
      throw new LookupError(`values('${key}'): ${why}.`);
    }
    const [accessor, relation] = found;
    // `values('author')` is the key the row stores, as Django gives it.
    if (last && relation.column !== null) return { key, relations, column: relation.column };
    relations.push(accessor);
    meta = schema.models[relation.target]!;
    if (last) return { key, relations, column: meta.pk };
  }
  throw new LookupError(`values(): an empty field name.`);
}

export function valuePaths(schema: SchemaMeta, model: ModelMeta, keys: readonly string[]): ValuePath[] {
  return keys.map((key) => resolveValue(schema, model, key));
}

/** The nested selection `values()` paths need: `id author { username profile { bio } }`. */
export function valuesSelection(schema: SchemaMeta, model: ModelMeta, paths: readonly ValuePath[]): string {
  interface Node { columns: Set<string>; relations: Map<string, Node> }
  const root: Node = { columns: new Set(), relations: new Map() };
  for (const path of paths) {
    let node = root;
    for (const accessor of path.relations) {
      let next = node.relations.get(accessor);
      if (!next) node.relations.set(accessor, (next = { columns: new Set(), relations: new Map() }));
      node = next;
    }
    node.columns.add(path.column);
  }
  const render = (meta: ModelMeta, node: Node): string => [
    ...[...node.columns].map((c) => (meta.files.includes(c) ? `${c} { name url }` : c)),
    ...[...node.relations].map(([accessor, below]) =>
      `${accessor} { ${render(schema.models[meta.relations[accessor]!.target]!, below)} }`),
  ].join(' ');
  return render(model, root);
}

/** A nested row as Django's values() dict: `{author__username: 'ada'}`, null past a missing row. */
export function flattenValues(paths: readonly ValuePath[], row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, relations, column } of paths) {
    let node: Record<string, unknown> | null = row;
    for (const accessor of relations) node = (node?.[accessor] as Record<string, unknown> | null | undefined) ?? null;
    out[key] = node === null ? null : node[column];
  }
  return out;
}
