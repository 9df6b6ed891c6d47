/**
 * Hand-written root fields (`api_graphql.register_query` / `register_mutation` on the
 * server) as typed functions. The generator writes one per field into
 * `src/generated/operations.ts`; a field returning a derived model type gives
 * instances of the generated model (relation managers, methods and actions work on
 * them), anything else gives the JSON the server sent.
 */
import type { Client } from './client.js';
import { getDefaultClient } from './client.js';
import { instanceOf } from './queryset.js';
import { treeSelection } from './selection.js';
import type { SchemaMeta } from './types.js';

export interface OperationSpec {
  kind: 'query' | 'mutation';
  /** The root field. */
  field: string;
  /** Each argument's name and GraphQL type, as the schema declares them. */
  params: ReadonlyArray<readonly [string, string]>;
  /** The generated model the field returns rows of (its columns are selected), or null. */
  model: string | null;
  /** The selection of any other object type (its scalar fields), or '' for a scalar. */
  selection: string;
}

export interface CallOptions {
  /** The client to run on (default: the configured one). */
  client?: Client;
}

/** A field's function: the arguments may be left out when none is required. */
export type Operation<A, R> = {} extends A
  ? (args?: A, options?: CallOptions) => Promise<R>
  : (args: A, options?: CallOptions) => Promise<R>;

/** One hand-written root field as `(args, options?) => Promise<Result>`. */
export function defineOperation<A extends Record<string, unknown>, R>(
  schema: SchemaMeta, spec: OperationSpec,
): Operation<A, R> {
  const model = spec.model === null ? null : schema.models[spec.model];
  if (model === undefined) throw new Error(`Unknown model ${spec.model}`);
  const selection = model ? treeSelection(schema, model, {}, 0) : spec.selection;
  const run = async (args: A = {} as A, options: CallOptions = {}): Promise<R> => {
    const client = options.client ?? getDefaultClient();
    // Arguments left out keep the server's default (a declared variable would send null).
    const given = spec.params.filter(([name]) => args[name] !== undefined);
    const variables = Object.fromEntries(given.map(([name]) => [name, args[name]]));
    const definitions = given.map(([name, type]) => `$${name}: ${type}`).join(', ');
    const call = given.map(([name]) => `${name}: $${name}`).join(', ');
    const document = `${spec.kind}${definitions ? `(${definitions})` : ''} { ${spec.field}`
      + `${call ? `(${call})` : ''}${selection ? ` { ${selection} }` : ''} }`;
    const data = await client.request<Record<string, unknown>>(document, variables);
    const value = data[spec.field];
    if (!model || value === null || value === undefined) return value as R;
    const bind = (row: unknown) => instanceOf(schema, model, row as Record<string, unknown>, options.client ?? null);
    return (Array.isArray(value) ? value.map(bind) : bind(value)) as R;
  };
  return run as Operation<A, R>;
}
