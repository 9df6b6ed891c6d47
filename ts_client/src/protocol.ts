/**
 * What crosses the wire, and the errors the client throws for it.
 * Shapes follow DESIGN.md ("Subscription events") and api_graphql's payloads.
 */

/** One GraphQL error as the server sends it; `extensions.code` is stable (BAD_USER_INPUT, FORBIDDEN...). */
export interface GraphQLErrorShape {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<D = Record<string, unknown>> {
  data?: D | null;
  errors?: GraphQLErrorShape[];
}

/** A field-level refusal from create/update/delete; `field` is `__all__` for model-wide errors. */
export interface FieldError<F extends string = string> {
  field: F | '__all__';
  message: string;
  code: string;
}

export type ChangeOp = 'READY' | 'CREATED' | 'UPDATED' | 'DELETED' | 'LEFT' | 'RESYNC';

/**
 * One event of `<model>_changes`. READY comes once the server can no longer miss a
 * change (after a resume: after the replayed events). `cursor` is durable: the
 * client sends the last one back as `after` when it re-subscribes.
 */
export interface ChangeEvent<Row> {
  op: ChangeOp;
  cursor: string | null;
  pk: string | null;
  /** The row with the subscription's selection; null for DELETED, READY and RESYNC. */
  node: Row | null;
  changed_fields: string[] | null;
}

/** The request failed as a whole: the server answered with `errors` (or a bad status). */
export class GraphQLRequestError extends Error {
  readonly errors: GraphQLErrorShape[];
  readonly status: number | undefined;
  constructor(errors: GraphQLErrorShape[], status?: number) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
    this.name = 'GraphQLRequestError';
    this.errors = errors;
    this.status = status;
  }
  /** The first error's `extensions.code`, e.g. FORBIDDEN or UNAUTHENTICATED. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

/** Django's `Model.DoesNotExist`: `get()` matched nothing (or the pk is gone). */
export class DoesNotExist extends Error {
  readonly model: string;
  constructor(model: string, detail = 'matching query does not exist.') {
    super(`${model} ${detail}`);
    this.name = 'DoesNotExist';
    this.model = model;
  }
}

/** Django's `MultipleObjectsReturned`: `get()` matched more than one row. */
export class MultipleObjectsReturned extends Error {
  readonly model: string;
  constructor(model: string) {
    super(`get() returned more than one ${model}.`);
    this.name = 'MultipleObjectsReturned';
    this.model = model;
  }
}

/**
 * A write refused by `full_clean()`, a constraint or a permission rule on a row.
 * `F` is the names of the input's fields, so `error.fields.title` is typed.
 */
export class ValidationError<F extends string = string> extends Error {
  readonly model: string;
  readonly errors: FieldError<F>[];
  constructor(model: string, errors: FieldError<F>[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'ValidationError';
    this.model = model;
    this.errors = errors;
  }
  /** Messages by field, like Django's `ValidationError.message_dict`. */
  get fields(): Partial<Record<F | '__all__', string[]>> {
    const out: Partial<Record<F | '__all__', string[]>> = {};
    for (const e of this.errors) (out[e.field] ??= []).push(e.message);
    return out;
  }
}

/** A filter or order key the model does not have (caught at compile time when typed). */
export class LookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookupError';
  }
}
