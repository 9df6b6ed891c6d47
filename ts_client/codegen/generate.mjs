// @ts-check
/**
 * The generator: schema/schema.json (introspection) + schema/models.json (the
 * Django manifest, from `manage.py export_client_schema`) -> src/generated/models.ts.
 *
 * Plain ESM JavaScript (type-checked by tsc through JSDoc) so it runs on Node 20
 * with no build step. It emits three things per model:
 * - types: the row (`ArticleFields`), Django-style filter keys computed from the
 *   lookups each column really has, order keys, create/update inputs;
 * - the GraphQL enums and input types, for `where()` and the mutations;
 * - runtime metadata: what the QuerySet compiler needs to turn keys into filters.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildClientSchema, getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType,
} from 'graphql';

/** @typedef {{lookups: string[], transforms: Record<string, string>}} LookupSet */
/**
 * @typedef {{django_field: string, graphql_type: string, scalar: string, nullable: boolean,
 *   primary_key: boolean, unique?: boolean, relation?: string | null, max_length: number | null, enum: {type: string} | null,
 *   lookups: string[], transforms: Record<string, string>, orderable: boolean}} FieldEntry
 * @typedef {{kind: string, many: boolean, target: string | null, target_type: string | null,
 *   django_field: string, reverse: string | null, query_name: string, filterable: boolean,
 *   orderable: boolean}} RelationEntry
 * @typedef {{graphql_type: string, required: boolean, model: string | null}} ArgumentEntry
 * @typedef {{kind: 'property' | 'method' | 'annotation', graphql_type: string, scalar: string,
 *   nullable: boolean, many: boolean, arguments: Record<string, ArgumentEntry>,
 *   lookups: string[], transforms: Record<string, string>, filterable: boolean,
 *   orderable: boolean}} ComputedEntry
 * @typedef {{label: string, type_name: string, pk: string, get_latest_by?: string[], ordering?: string[] | null,
 *   queries: Record<string, string>,
 *   filter_type: string, order_type: string,
 *   mutations: Record<string, {field: string, input: string | null}>,
 *   subscription: {field: string, type: string} | null,
 *   fields: Record<string, FieldEntry>, relations: Record<string, RelationEntry>,
 *   computed?: Record<string, ComputedEntry>,
 *   scopes?: Record<string, {arguments: Record<string, ArgumentEntry>, input: string | null}>,
 *   scope_type?: string | null,
 *   actions?: Record<string, {field: string, arguments: Record<string, ArgumentEntry>}>,
 *   aggregates?: {field: string, group_by: string, group_enum: string, numeric: string[], ordered: string[], countable: string[], group: string[]}}} ModelEntry
 * @typedef {{type: 'number' | 'string', regex: string, slashes: boolean}} UrlParamEntry
 * @typedef {{path: string, params: Record<string, UrlParamEntry>}} UrlEntry
 * @typedef {{version: number, scalars: Record<string, LookupSet>, models: Record<string, ModelEntry>,
 *   urls?: Record<string, UrlEntry>, handwritten?: {query: string[], mutation: string[]}}} Manifest
 */

/** What generated files import the runtime from, unless told otherwise. */
export const PACKAGE = 'django-graphql-realtime-client';

/** Members of the client's QuerySet and Manager: a scope may not take one of these names. */
const RESERVED_QUERYSET_NAMES = new Set([
  'constructor', 'then', 'catch', 'finally', 'filter', 'exclude', 'where', 'all', 'order_by', 'limit', 'offset',
  'values', 'toGraphQL', 'fetch', 'get', 'first', 'count', 'exists', 'changesDocument', 'subscribe', 'changes',
  'live', 'using', 'create', 'update', 'delete', 'aggregate', 'annotate', 'binding', 'state',
  'bulk_create', 'get_or_create', 'update_or_create', 'bulkFilter',
  'select_related', 'prefetch_related', 'distinct', 'in_bulk', 'latest', 'earliest', 'last', 'model',
  'withRelated', 'withCache', 'fetchRaw',
]);

/** Wire types of rows (what the server sends). */
const OUTPUT = {
  ID: 'string', String: 'string', Int: 'number', Float: 'number', Boolean: 'boolean',
  BigInt: 'string', Decimal: 'string', DateTime: 'string', Date: 'string', Time: 'string',
  Duration: 'string', UUID: 'string', Base64: 'string', JSON: 'unknown',
};
/** What inputs accept: numbers as IDs, Date objects for dates (JSON.stringify makes them ISO). */
const INPUT = {
  ...OUTPUT, ID: 'string | number', DateTime: 'string | Date', Date: 'string | Date',
  // A file (a File is a Blob): the client sends it as a GraphQL multipart request.
  Upload: 'Blob',
};
const FILE_OUTPUT = '{ name: string; url: string | null }';

/** @param {string} s */
const quote = (s) => JSON.stringify(s);
/** @param {string[]} xs */
const union = (xs) => (xs.length ? xs.map(quote).join(' | ') : 'never');

/**
 * @param {{ schemaPath: string, manifestPath: string, outDir: string, depth?: number,
 *   importFrom?: string }} options  importFrom: the runtime module the generated file imports
 *   (the package, by name, in a user's project; '../index.js' for the demo models inside it)
 * @returns {Record<string, string>} file name -> content
 */
export function generate({ schemaPath, manifestPath, outDir, depth = 2, importFrom = PACKAGE }) {
  const introspection = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const schema = buildClientSchema(introspection.data ?? introspection);
  /** @type {Manifest} */
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.version !== 1) throw new Error(`models.json version ${manifest.version} is not supported`);
  const models = Object.values(manifest.models);
  const byLabel = new Map(models.map((m) => [m.label, m]));
  check(schema, models);

  const out = [
    '// Generated by `django-ts generate` from schema/schema.json and schema/models.json.',
    '// Do not edit: run `npm run generate` after `manage.py export_client_schema`.',
    '/* eslint-disable */',
    "import { defineModel, type Entries, type Instance, type Kwargs, type ModelTypes, type Nullable,",
    `  type OwnEntries, type PrefixValues, type SchemaMeta, type Span } from ${quote(importFrom)};`,
    '',
    '// ---- GraphQL enums and input types ----',
    ...graphqlTypes(schema),
    '',
    '// ---- what each kind of column accepts in filters ----',
  ];

  /** Lookup sets by name: scalars, enums, files (each field names one). */
  /** @type {Map<string, LookupSet & {value: string}>} */
  const sets = new Map();
  for (const [name, set] of Object.entries(manifest.scalars)) {
    sets.set(name, { ...set, value: INPUT[/** @type {keyof typeof INPUT} */ (name)] ?? 'string' });
  }
  /** @param {FieldEntry} field */
  const setName = (field) => {
    const name = field.enum ? field.enum.type : field.graphql_type === 'File' ? 'File' : field.scalar;
    if (!sets.has(name)) {
      sets.set(name, { lookups: field.lookups, transforms: field.transforms, value: field.enum ? name : 'string' });
    }
    return name;
  };
  for (const model of models) for (const field of Object.values(model.fields)) setName(field);
  for (const [name, set] of sets) {
    const transforms = Object.entries(set.transforms).map(([t, target]) => `${t}: L_${target}`).join('; ');
    out.push(`type L_${name} = { value: ${set.value}; lookups: ${union(set.lookups)}; transforms: {${transforms ? ` ${transforms} ` : ""}} };`);
  }

  for (const model of models) out.push('', ...modelTypes(model, byLabel, setName, depth));

  out.push('', '// ---- runtime metadata: what the QuerySet compiler reads ----');
  const meta = {
    lookups: Object.fromEntries([...sets].map(([name, s]) => [name, { lookups: s.lookups, transforms: s.transforms }])),
    models: Object.fromEntries(models.map((m) => [m.type_name, modelMeta(m, byLabel, setName)])),
  };
  out.push(`export const schema: SchemaMeta = ${JSON.stringify(meta, null, 2)};`, '');
  for (const model of models) {
    const t = model.type_name;
    out.push(`/** ${model.label}: \`${t}.objects.filter({...})\`. */`);
    out.push(`export const ${t} = defineModel<${t}Types>(schema, ${quote(t)});`);
    out.push(`export type ${t} = Instance<${t}Types>;`);
  }
  out.push('');

  const files = {
    'models.ts': out.join('\n'), 'tasks.ts': taskModule(schema, importFrom),
    'urls.ts': urlsModule(manifest.urls ?? {}, importFrom),
    'operations.ts': operationsModule(schema, manifest.handwritten ?? { query: [], mutation: [] },
      new Set(models.map((m) => m.type_name)), importFrom),
  };
  mkdirSync(outDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(outDir, name), content);
  return files;
}

/**
 * Every root field and input the manifest names must exist in the schema.
 * @param {import('graphql').GraphQLSchema} schema
 * @param {ModelEntry[]} models
 */
function check(schema, models) {
  const query = schema.getQueryType()?.getFields() ?? {};
  const mutation = schema.getMutationType()?.getFields() ?? {};
  const subscription = schema.getSubscriptionType()?.getFields() ?? {};
  for (const m of models) {
    for (const name of Object.values(m.queries)) if (!query[name]) throw new Error(`schema lacks Query.${name}`);
    for (const { field, input } of Object.values(m.mutations)) {
      if (!mutation[field]) throw new Error(`schema lacks Mutation.${field}`);
      if (input && !schema.getType(input)) throw new Error(`schema lacks input ${input}`);
    }
    if (m.subscription && !subscription[m.subscription.field]) {
      throw new Error(`schema lacks Subscription.${m.subscription.field}`);
    }
  }
}

/**
 * TypeScript for a GraphQL input type reference.
 * @param {import('graphql').GraphQLInputType} type
 * @returns {string}
 */
function inputType(type) {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return `Array<${inputType(inner.ofType)}>`;
  const named = getNamedType(inner);
  return INPUT[/** @type {keyof typeof INPUT} */ (named.name)] ?? named.name;
}

/** @param {import('graphql').GraphQLSchema} schema */
function graphqlTypes(schema) {
  const lines = [];
  const types = Object.values(schema.getTypeMap())
    .filter((t) => !t.name.startsWith('__'))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const type of types) {
    if (isEnumType(type)) {
      lines.push(`export type ${type.name} = ${union(type.getValues().map((v) => v.name))};`);
    } else if (isInputObjectType(type)) {
      lines.push(`export interface ${type.name} {`);
      for (const field of Object.values(type.getFields())) {
        const required = isNonNullType(field.type) && field.defaultValue === undefined;
        const ts = inputType(field.type);
        lines.push(required ? `  ${field.name}: ${ts};` : `  ${field.name}?: ${ts} | null;`);
      }
      lines.push('}');
    }
  }
  return lines;
}

/**
 * @param {ModelEntry} model
 * @param {Map<string, ModelEntry>} byLabel
 * @param {(field: FieldEntry) => string} setName
 * @param {number} depth
 */
function modelTypes(model, byLabel, setName, depth) {
  const t = model.type_name;
  const lines = [`// ${model.label}`, `export interface ${t}Fields {`];
  for (const [name, f] of Object.entries(model.fields)) {
    const base = f.graphql_type === 'File' ? FILE_OUTPUT
      : f.enum ? f.enum.type : OUTPUT[/** @type {keyof typeof OUTPUT} */ (f.scalar)] ?? 'string';
    const detail = f.max_length ? `(max_length=${f.max_length})` : '';
    lines.push(`  /** ${f.django_field}${detail}${f.primary_key ? ', primary key' : ''} */`);
    lines.push(`  ${name}: ${base}${f.nullable || f.graphql_type === 'File' ? ' | null' : ''};`);
  }
  const computed = Object.entries(model.computed ?? {});
  for (const [name, c] of computed) {
    if (c.kind === 'method') continue;
    lines.push(`  /** ${c.kind === 'annotation' ? 'annotation (SQL: filterable, orderable)' : 'property'} */`);
    lines.push(`  readonly ${name}: ${computedType(c)};`);
  }
  lines.push('}');
  const specs = Object.entries(model.fields).map(([name, f]) => {
    const spec = `L_${setName(f)}`;
    return `${name}: ${f.nullable ? `Nullable<${spec}>` : spec}`;
  });
  for (const [name, c] of computed) if (c.filterable) specs.push(`${name}: Nullable<L_${c.scalar}>`);
  lines.push(`type ${t}Lookups = { ${specs.join('; ')} };`);
  const pkSet = `L_${setName(model.fields[model.pk] ?? fail(`${t} lacks its pk`))}`;
  lines.push(`type ${t}Depth0 = OwnEntries<${t}Lookups> | Entries<'pk', ${pkSet}>;`);

  const filterable = Object.entries(model.relations).filter(([, r]) => r.filterable && r.target);
  const orderable = Object.entries(model.relations).filter(([, r]) => r.orderable && r.target);
  /** @param {RelationEntry} r */
  const target = (r) => byLabel.get(/** @type {string} */ (r.target)) ?? fail(`unknown target ${r.target}`);
  for (let d = 1; d <= depth; d++) {
    const parts = [`${t}Depth0`];
    // Django spells lookups by the related query name: `comment__body`, not `comment_set__body`.
    for (const [, r] of filterable) {
      const tgt = target(r);
      parts.push(`Entries<${quote(r.query_name)}, L_${setName(tgt.fields[tgt.pk] ?? fail('pk'))}>`);
      parts.push(`Span<${quote(r.query_name)}, ${tgt.type_name}Depth${d - 1}>`);
    }
    lines.push(`type ${t}Depth${d} =\n  | ${parts.join('\n  | ')};`);
  }
  lines.push(`export type ${t}Kwargs = Kwargs<${t}Depth${depth}>;`);

  const own = ['pk', ...Object.entries(model.fields).filter(([, f]) => f.orderable).map(([n]) => n),
    ...computed.filter(([, c]) => c.orderable).map(([n]) => n)];
  lines.push(`type ${t}Order0 = ${union(own)};`);
  for (let d = 1; d <= depth; d++) {
    const parts = [`${t}Order0`];
    for (const [, r] of orderable) {
      const q = r.query_name;
      parts.push(quote(q), `\`${q}__\${${target(r).type_name}Order${d - 1}}\``);
    }
    lines.push(`type ${t}Order${d} = ${parts.join(' | ')};`);
  }
  lines.push(`export type ${t}OrderKey = ${t}Order${depth};`);

  const related = Object.entries(model.relations)
    .filter(([, r]) => r.many && r.target && r.reverse)
    .map(([name, r]) => `${name}: ${target(r).type_name}Types`);
  const scopes = Object.entries(model.scopes ?? {});
  for (const [name] of scopes) {
    if (RESERVED_QUERYSET_NAMES.has(name)) fail(`${t}: the scope '${name}' clashes with a QuerySet method of the client`);
  }
  lines.push(`/** ${t}.objects scopes: \`${t}.objects.${scopes[0]?.[0] ?? 'scope'}()\`, chainable. */`);
  lines.push(`export interface ${t}Scopes {`);
  for (const [name, sc] of scopes) {
    const args = Object.entries(sc.arguments);
    if (!args.length) {
      lines.push(`  ${name}: [];`);
      continue;
    }
    const optional = args.every(([, a]) => !a.required);
    const params = args.map(([n, a]) => `${n}${a.required ? '' : '?'}: ${argumentType(a.graphql_type)}`);
    lines.push(`  ${name}: [args${optional ? '?' : ''}: { ${params.join('; ')} }];`);
  }
  lines.push('}');
  const toOne = filterable.filter(([, r]) => !r.many);
  const single = toOne.map(([name, r]) => `${name}: ${target(r).type_name}Types`);

  // values(): own columns, `pk`, a relation's name (its pk, as Django gives it), to-one spans,
  // spelled as lookups are (related query names).
  const pkOf = (/** @type {ModelEntry} */ m) => `${m.type_name}Fields[${quote(m.pk)}]`;
  const valueKeys = [`pk: ${pkOf(model)}`];
  for (const [name, r] of toOne) {
    const column = Object.entries(model.fields).find(([, f]) => f.relation === name);
    valueKeys.push(`${quote(r.query_name)}: ${column ? `${t}Fields[${quote(column[0])}]` : `${pkOf(target(r))} | null`}`);
  }
  lines.push(`type ${t}Values0 = ${t}Fields & { ${valueKeys.join('; ')} };`);
  for (let d = 1; d <= depth; d++) {
    const parts = [`${t}Values0`, ...toOne.map(([, r]) => `PrefixValues<${quote(r.query_name)}, ${target(r).type_name}Values${d - 1}>`)];
    lines.push(`type ${t}Values${d} = ${parts.join(' & ')};`);
  }
  lines.push(`export type ${t}Values = ${t}Values${depth};`);

  // select_related() follows to-one relations; prefetch_related() any relation.
  const prefetchable = [...toOne, ...Object.entries(model.relations).filter(([, r]) => r.many && r.target && r.reverse)];
  for (const [kind, rels] of /** @type {const} */ ([['Select', toOne], ['Prefetch', prefetchable]])) {
    lines.push(`type ${t}${kind}0 = ${union(rels.map(([n]) => n))};`);
    for (let d = 1; d <= depth; d++) {
      const parts = rels.flatMap(([n, r]) => [quote(n), `\`${n}__\${${target(r).type_name}${kind}${d - 1}}\``]);
      lines.push(`type ${t}${kind}${d} = ${parts.length ? parts.join(' | ') : 'never'};`);
    }
  }
  const uniqueFields = Object.entries(model.fields).filter(([, f]) => f.unique || f.primary_key).map(([n]) => n);
  lines.push(`export interface ${t}Methods {`);
  for (const [name, c] of computed) {
    if (c.kind !== 'method') continue;
    const args = Object.entries(c.arguments);
    const optional = args.every(([, a]) => !a.required);
    const params = args.map(([n, a]) => `${n}${a.required ? '' : '?'}: ${argumentType(a.graphql_type)}`);
    lines.push(`  /** The model method \`${name}\`, run on the server. */`);
    lines.push(`  ${name}(args${optional ? '?' : ''}: { ${params.join('; ')} }): Promise<${computedType(c)}>;`);
  }
  for (const [name, action] of Object.entries(model.actions ?? {})) {
    const args = Object.entries(action.arguments);
    const optional = args.every(([, a]) => !a.required);
    const params = args.map(([n, a]) => `${n}${a.required ? '' : '?'}: ${argumentType(a.graphql_type)}`);
    lines.push(`  /** The action \`${name}\`: the model method, run by the server in a transaction. */`);
    lines.push(`  ${name}(args${optional ? '?' : ''}: { ${params.join('; ')} }): Promise<Instance<${t}Types>>;`);
  }
  lines.push('}');
  const create = model.mutations.create?.input ?? 'never';
  const update = model.mutations.update?.input ?? 'never';
  const lookup = model.mutations.get_or_create?.input ?? model.mutations.update_or_create?.input ?? 'never';
  lines.push(
    `export interface ${t}Types extends ModelTypes {`,
    `  name: ${quote(t)};`,
    `  fields: ${t}Fields;`,
    `  kwargs: ${t}Kwargs;`,
    `  where: ${model.filter_type};`,
    `  order: ${t}OrderKey;`,
    `  create: ${create};`,
    `  update: ${update};`,
    `  lookup: ${lookup};`,
    `  related: { ${related.join('; ')} };`,
    `  single: { ${single.join('; ')} };`,
    `  values: ${t}Values;`,
    `  select: ${t}Select${depth};`,
    `  prefetch: ${t}Prefetch${depth};`,
    `  unique: ${union(['pk', ...uniqueFields])};`,
    `  methods: ${t}Methods;`,
    `  scopes: ${t}Scopes;`,
    `  aggregates: { numeric: ${union(model.aggregates?.numeric ?? [])}; ordered: ${union(model.aggregates?.ordered ?? [])}; countable: ${union(model.aggregates?.countable ?? [])}; group: ${union(model.aggregates?.group ?? [])} };`,
    '}',
  );
  return lines;
}

/**
 * @param {ModelEntry} model
 * @param {Map<string, ModelEntry>} byLabel
 * @param {(field: FieldEntry) => string} setName
 */
function modelMeta(model, byLabel, setName) {
  const relations = Object.fromEntries(
    Object.entries(model.relations)
      .filter(([, r]) => r.filterable && r.target)
      .map(([name, r]) => [name, {
        target: byLabel.get(/** @type {string} */ (r.target))?.type_name,
        kind: r.kind, many: r.many, reverse: r.reverse, query: r.query_name,
        column: Object.entries(model.fields).find(([, f]) => f.relation === name)?.[0] ?? null,
      }]),
  );
  /** @type {Record<string, string | undefined>} */
  const roots = {
    ...model.queries,
    ...Object.fromEntries(Object.entries(model.mutations).map(([action, m]) => [action, m.field])),
    ...(model.subscription ? { changes: model.subscription.field } : {}),
  };
  return {
    name: model.type_name,
    pk: model.pk,
    latestBy: model.get_latest_by ?? [],
    ordering: model.ordering === undefined ? [] : model.ordering,
    fields: Object.fromEntries([
      ...Object.entries(model.fields).map(([name, f]) => [name, setName(f)]),
      ...Object.entries(model.computed ?? {}).filter(([, c]) => c.filterable).map(([name, c]) => [name, c.scalar]),
    ]),
    scopes: Object.keys(model.scopes ?? {}),
    actions: Object.fromEntries(Object.entries(model.actions ?? {}).map(([name, a]) => [name, {
      field: a.field, arguments: Object.fromEntries(Object.entries(a.arguments).map(([n, x]) => [n, x.graphql_type])),
    }])),
    computed: Object.fromEntries(Object.entries(model.computed ?? {}).map(([name, c]) => [name, {
      kind: c.kind, arguments: Object.fromEntries(Object.entries(c.arguments).map(([n, a]) => [n, a.graphql_type])),
    }])),
    files: Object.entries(model.fields).filter(([, f]) => f.graphql_type === 'File').map(([n]) => n),
    relations,
    roots: { get: roots.get, list: roots.list, count: roots.count, create: roots.create, update: roots.update,
      delete: roots.delete, changes: roots.changes, bulk_update: roots.bulk_update, bulk_delete: roots.bulk_delete,
      bulk_create: roots.bulk_create, get_or_create: roots.get_or_create, update_or_create: roots.update_or_create,
      aggregate: model.aggregates?.field, group_by: model.aggregates?.group_by },
    inputs: {
      filter: model.filter_type, order: model.order_type, scope: model.scope_type ?? undefined,
      create: model.mutations.create?.input ?? undefined, update: model.mutations.update?.input ?? undefined,
      lookup: model.mutations.get_or_create?.input ?? model.mutations.update_or_create?.input ?? undefined,
      group: model.aggregates?.group_enum,
    },
  };
}

/**
 * src/generated/tasks.ts: one typed starter per registered Celery task, from the
 * `start_<task>` mutations (arguments in the task function's order).
 * @param {import('graphql').GraphQLSchema} schema
 * @param {string} importFrom
 */
function taskModule(schema, importFrom) {
  const mutations = Object.values(schema.getMutationType()?.getFields() ?? {})
    .filter((f) => f.name.startsWith('start_') && getNamedType(f.type).name === 'TaskRun')
    .sort((a, b) => a.name.localeCompare(b.name));
  const lines = [
    '// Generated by `django-ts generate` from schema/schema.json: the tasks registered with',
    '// api_graphql.register_task. Do not edit: run `npm run generate`.',
    '/* eslint-disable */',
    `import { defineTask } from ${quote(importFrom)};`,
    '',
    'export const tasks = {',
  ];
  for (const field of mutations) {
    const params = field.args.map((arg) => {
      const optional = !isNonNullType(arg.type) || arg.defaultValue !== undefined;
      return `${arg.name}${optional ? '?' : ''}: ${inputType(arg.type)}`;
    });
    const spec = field.args.map((arg) => `[${quote(arg.name)}, ${quote(String(arg.type))}]`);
    if (field.description) lines.push(`  /** ${field.description.replace(/\*\//g, '*\\/')} */`);
    lines.push(`  ${field.name.slice('start_'.length)}: defineTask<[${params.join(', ')}]>(`
      + `{ mutation: ${quote(field.name)}, params: [${spec.join(', ')}] }),`);
  }
  lines.push('} as const;', '');
  return lines.join('\n');
}

/**
 * src/generated/operations.ts: one typed function per hand-written root field
 * (api_graphql.register_query / register_mutation). A field returning a derived model
 * type gives instances of the generated model; another object type gives its scalar
 * fields; a scalar gives itself.
 * @param {import('graphql').GraphQLSchema} schema
 * @param {{query: string[], mutation: string[]}} handwritten
 * @param {Set<string>} modelTypes
 * @param {string} importFrom
 */
function operationsModule(schema, handwritten, modelTypes, importFrom) {
  const used = new Set();
  const body = [];
  for (const kind of /** @type {const} */ (['query', 'mutation'])) {
    const root = (kind === 'query' ? schema.getQueryType() : schema.getMutationType())?.getFields() ?? {};
    for (const name of handwritten[kind] ?? []) {
      const field = root[name];
      if (!field) throw new Error(`schema lacks ${kind === 'query' ? 'Query' : 'Mutation'}.${name}`);
      const params = field.args.map((arg) => {
        const optional = !isNonNullType(arg.type) || arg.defaultValue !== undefined;
        return `${arg.name}${optional ? '?' : ''}: ${inputType(arg.type)}`;
      });
      const spec = field.args.map((arg) => `[${quote(arg.name)}, ${quote(String(arg.type))}]`);
      const named = getNamedType(field.type);
      const model = modelTypes.has(named.name) ? named.name : null;
      if (model) used.add(model);
      const leaves = model || !('getFields' in named) ? [] : leafFields(named);
      const item = model ?? (leaves.length ? `{ ${leaves.map(([n, t]) => `${n}: ${t}`).join('; ')} }` : outputScalar(named));
      if (field.description) body.push(`  /** ${field.description.replace(/\*\//g, '*\\/')} */`);
      const args = params.length ? `{ ${params.join('; ')} }` : 'Record<string, never>';
      body.push(`  ${name}: defineOperation<${args}, ${outputShape(field.type, item)}>(schema, `
        + `{ kind: ${quote(kind)}, field: ${quote(name)}, params: [${spec.join(', ')}], `
        + `model: ${model ? quote(model) : 'null'}, selection: ${quote(leaves.map(([n]) => n).join(' '))} }),`);
    }
  }
  const types = [...used].sort().map((t) => `type ${t}`);
  return [
    '// Generated by `django-ts generate` from schema/schema.json: the hand-written root fields',
    '// (api_graphql.register_query / register_mutation). Do not edit: run `npm run generate`.',
    '/* eslint-disable */',
    `import { defineOperation } from ${quote(importFrom)};`,
    `import { schema${types.length ? `, ${types.join(', ')}` : ''} } from './models.js';`,
    '',
    'export const operations = {',
    ...body,
    '} as const;',
    '',
  ].join('\n');
}

/**
 * The scalar and enum fields (without required arguments) of an object type, with
 * their TypeScript types.
 * @param {any} type
 * @returns {Array<[string, string]>}
 */
function leafFields(type) {
  /** @type {Array<[string, string]>} */
  const leaves = [];
  for (const field of Object.values(/** @type {Record<string, import('graphql').GraphQLField<unknown, unknown>>} */ (type.getFields()))) {
    if (field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) continue;
    const named = getNamedType(field.type);
    if ('getFields' in named) continue;
    leaves.push([field.name, outputShape(field.type, outputScalar(named))]);
  }
  return leaves;
}

/**
 * A scalar's or an enum's TypeScript (what the server sends).
 * @param {any} named
 */
function outputScalar(named) {
  if ('getValues' in named) return union(named.getValues().map((/** @type {{name: string}} */ v) => v.name));
  return OUTPUT[/** @type {keyof typeof OUTPUT} */ (named.name)] ?? 'unknown';
}

/**
 * Lists and nullability of an output type around the TypeScript of its item.
 * @param {import('graphql').GraphQLOutputType} type
 * @param {string} item
 * @returns {string}
 */
function outputShape(type, item) {
  const nullable = !isNonNullType(type);
  const inner = isNonNullType(type) ? type.ofType : type;
  const shape = isListType(inner) ? `Array<${outputShape(inner.ofType, item)}>` : item;
  return nullable ? `${shape} | null` : shape;
}

/**
 * The TypeScript of a computed value (`Int!` -> number, `[String!]` -> Array<string> | null).
 * @param {{graphql_type: string, scalar: string}} c
 */
function computedType(c) {
  const nullable = !c.graphql_type.endsWith('!');
  const many = c.graphql_type.startsWith('[');
  const base = OUTPUT[/** @type {keyof typeof OUTPUT} */ (c.scalar)] ?? 'string';
  return `${many ? `Array<${base}>` : base}${nullable ? ' | null' : ''}`;
}

/**
 * What an argument accepts, from its GraphQL spelling.
 * @param {string} graphqlType
 */
function argumentType(graphqlType) {
  const nullable = !graphqlType.endsWith('!');
  const bare = graphqlType.replace(/!$/, '');
  const many = bare.startsWith('[');
  const name = bare.replace(/^\[|!?\]$/g, '');
  const base = INPUT[/** @type {keyof typeof INPUT} */ (name)] ?? 'string';
  return `${many ? `ReadonlyArray<${base}>` : base}${nullable ? ' | null' : ''}`;
}

/**
 * src/generated/urls.ts: one typed function per named URL, namespaces nested.
 * @param {Record<string, UrlEntry>} urls
 * @param {string} importFrom
 */
function urlsModule(urls, importFrom) {
  /** @type {Record<string, unknown>} */
  const tree = {};
  for (const [name, entry] of Object.entries(urls)) {
    const parts = name.split(':');
    let node = tree;
    for (const ns of parts.slice(0, -1)) node = /** @type {Record<string, unknown>} */ (node[ns] ??= {});
    node[/** @type {string} */ (parts.at(-1))] = { name, entry };
  }
  /** @param {Record<string, unknown>} node @param {string} indent @returns {string[]} */
  const emit = (node, indent) => Object.entries(node).flatMap(([key, value]) => {
    const v = /** @type {{name?: string, entry?: UrlEntry}} */ (value);
    if (v.entry && v.name) {
      const params = Object.entries(v.entry.params).map(([p, e]) => `${quote(p)}: ${e.type}`).join('; ');
      const meta = JSON.stringify(Object.fromEntries(Object.entries(v.entry.params)
        .map(([p, e]) => [p, { type: e.type, regex: e.regex, slashes: e.slashes }])));
      return [`${indent}/** \`${v.name}\`: ${v.entry.path} */`,
        `${indent}${quote(key)}: urlFunction<{ ${params} }>(${quote(v.name)}, ${quote(v.entry.path)}, ${meta}),`];
    }
    return [`${indent}${quote(key)}: {`, ...emit(/** @type {Record<string, unknown>} */ (value), `${indent}  `), `${indent}},`];
  });
  return [
    "// Generated by `django-ts generate` from schema/models.json (the project's URLconf).",
    '// Do not edit: run `npm run generate` after `manage.py export_client_schema`.',
    '/* eslint-disable */',
    `import { urlFunction } from ${quote(importFrom)};`,
    '',
    '/** The named URLs of the project: `urls.article_detail({ pk: 1 })` -> "/articles/1/". */',
    'export const urls = {',
    ...emit(tree, '  '),
    '};',
    '',
  ].join('\n');
}

/** @param {string} message @returns {never} */
function fail(message) {
  throw new Error(message);
}
