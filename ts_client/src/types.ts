/**
 * The type machinery behind generated models: Django-style filter keys computed
 * from a per-field lookup description, so a wrong field, lookup, value or order
 * key is a compile error. Runtime shapes of the generated metadata live here too.
 */

/** What one column accepts in filters: its value, its lookups, its transforms. */
export type LookupSpec = {
  value: unknown;
  lookups: string;
  transforms: { [transform: string]: LookupSpec };
};

/** The same column when it is nullable: `filter({bio: null})` means `bio__isnull`. */
export type Nullable<S extends LookupSpec> = {
  value: S['value'] | null;
  lookups: S['lookups'];
  transforms: S['transforms'];
};

export type TextLookup =
  | 'iexact' | 'contains' | 'icontains' | 'startswith' | 'istartswith'
  | 'endswith' | 'iendswith' | 'regex' | 'iregex';

/** The operand a lookup takes on a column of value type V. */
type Operand<L, V> = L extends 'in'
  ? readonly V[]
  : L extends 'range'
    ? readonly [V, V]
    : L extends 'isnull'
      ? boolean
      : L extends TextLookup | 'has_key'
        ? string
        : V;

/** Every `[key, value]` a column offers under prefix P: `title`, `title__icontains`, `created_at__year__gte`... */
export type Entries<P extends string, S extends LookupSpec> =
  | [P, S['value']]
  | { [L in S['lookups']]: [`${P}__${L}`, Operand<L, Exclude<S['value'], null>>] }[S['lookups']]
  | {
      [T in keyof S['transforms'] & string]: Entries<`${P}__${T}`, S['transforms'][T]>;
    }[keyof S['transforms'] & string];

/** All entries of a model's own columns. */
export type OwnEntries<F extends { [field: string]: LookupSpec }> = {
  [K in keyof F & string]: Entries<K, F[K]>;
}[keyof F & string];

/** A relation's entries: `author__username`, from the target's entries. */
export type Span<R extends string, E> = E extends [infer K extends string, infer V]
  ? [`${R}__${K}`, V]
  : never;

/** A to-one relation's `values()` columns under its name: `author__username`, null when there is no row. */
export type PrefixValues<P extends string, V> = { [K in keyof V & string as `${P}__${K}`]: V[K] | null };

/** Entries become the optional keys of a filter object. */
export type Kwargs<E extends [string, unknown]> = { [X in E as X[0]]?: X[1] };

/** `'title'` or `'-title'`. */
export type OrderBy<K extends string> = K | `-${K}`;

/** The bundle of types the generator emits for each model. */
export interface ModelTypes {
  /** GraphQL type name. */
  name: string;
  /** The row as the server sends it (scalar columns). */
  fields: object;
  /** Django-style flat filter keys. */
  kwargs: object;
  /** The GraphQL filter input, for what kwargs cannot say (OR, nesting deeper). */
  where: object;
  /** Order keys without the `-`. */
  order: string;
  create: object;
  update: object;
  /** Exact values of unique fields, for get_or_create / update_or_create. */
  lookup: object;
  /** To-many relations: accessor name -> target model types. */
  related: object;
  /** To-one relations (forward foreign keys, reverse one-to-ones): accessor -> target model types. */
  single: object;
  /** What `values()` can name: columns, `pk`, relations (their pk), to-one spans (`author__username`). */
  values: object;
  /** `select_related()` paths: to-one relations, `__`-joined (`article__author`). */
  select: string;
  /** `prefetch_related()` paths: any relation, `__`-joined (`comment_set__author`). */
  prefetch: string;
  /** Columns that identify a row (`in_bulk(ids, {field_name})`). */
  unique: string;
  /** Model methods exposed as computed fields: `article.summary({words: 3})`. */
  methods?: object;
  /** Manager / QuerySet methods offered as scopes: name -> its argument tuple. */
  scopes?: object | undefined;
  /** The columns aggregate() takes per kind of function, and the keys `values(...).annotate()` groups by. */
  aggregates?: { numeric: string; ordered: string; countable: string; group: string };
}

// ---- runtime metadata emitted by the generator ------------------------------------

/** Lookups and transforms of one kind of column (a scalar, an enum, a file). */
export interface LookupSetMeta {
  lookups: readonly string[];
  /** Transform name -> the lookup set it yields (`year` -> `Int`). */
  transforms: Readonly<Record<string, string>>;
}

export interface RelationMeta {
  target: string;
  kind: 'forward' | 'reverse_one' | 'reverse_many' | 'm2m';
  many: boolean;
  /** The relation on the target leading back here (what a relation manager filters on). */
  reverse: string | null;
  /** The name Django's lookups use (`comment` for the accessor `comment_set`). */
  query: string;
  /** The column holding the target's key here (`author_id`), for forward relations. */
  column: string | null;
}

export interface ModelMeta {
  name: string;
  pk: string;
  /** Meta.get_latest_by, as order keys. */
  latestBy: readonly string[];
  /**
   * Meta.ordering, as order keys: the order of a queryset without order_by().
   * null when it holds an expression no key names.
   */
  ordering: readonly string[] | null;
  /** Column -> its lookup set name. */
  fields: Readonly<Record<string, string>>;
  /** Columns whose value is a `File {name url}` object. */
  files: readonly string[];
  relations: Readonly<Record<string, RelationMeta>>;
  roots: {
    get?: string;
    list?: string;
    count?: string;
    create?: string;
    update?: string;
    delete?: string;
    changes?: string;
    bulk_update?: string;
    bulk_delete?: string;
    bulk_create?: string;
    get_or_create?: string;
    update_or_create?: string;
    aggregate?: string;
    group_by?: string;
  };
  /** GraphQL input types of the arguments (`group`: the enum of grouping keys). */
  inputs: { filter: string; order: string; create?: string; update?: string; lookup?: string; scope?: string; group?: string };
  /** Manager / QuerySet methods offered as scopes (`Article.objects.published()`). */
  scopes?: readonly string[];
  /** Model methods run as mutations on one object: name -> its root field and arguments. */
  actions?: Readonly<Record<string, { field: string; arguments: Readonly<Record<string, string>> }>>;
  /** Properties, methods and annotations the server computes (annotations are in `fields` too). */
  computed?: Readonly<Record<string, ComputedMeta>>;
}

export interface ComputedMeta {
  kind: 'property' | 'method' | 'annotation';
  /** Argument name -> its GraphQL type (`Int!`), for methods. */
  arguments: Readonly<Record<string, string>>;
}

export interface SchemaMeta {
  models: Readonly<Record<string, ModelMeta>>;
  lookups: Readonly<Record<string, LookupSetMeta>>;
}
