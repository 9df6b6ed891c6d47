/**
 * Computed fields: what the server computes from a model's own code. Properties and
 * annotations arrive with every row (they are in the default selection); a model
 * method with arguments is called on one object, `await article.summary({words: 3})`,
 * as one query that runs the method on the server.
 */
import type { Client } from './client.js';
import { DoesNotExist } from './protocol.js';
import type { ModelMeta } from './types.js';
import type { Document } from './compile.js';

/** Names of the computed values a default row selects: properties and annotations. */
export function computedColumns(model: ModelMeta): string[] {
  return Object.entries(model.computed ?? {})
    .filter(([, c]) => c.kind !== 'method')
    .map(([name]) => name);
}

/** `query($pk: ID!, $words: Int!) { article(pk: $pk) { summary(words: $words) } }`. */
export function methodDocument(model: ModelMeta, name: string, pk: string | number,
  args: Record<string, unknown>): Document {
  const meta = model.computed?.[name];
  if (!meta || meta.kind !== 'method') throw new Error(`${model.name} has no method '${name}'.`);
  const given = Object.keys(args).filter((k) => args[k] !== undefined);
  for (const key of given) {
    if (!(key in meta.arguments)) throw new Error(`${model.name}.${name} takes no argument '${key}'.`);
  }
  const defs = ['$pk: ID!', ...given.map((k) => `$${k}: ${meta.arguments[k]}`)].join(', ');
  const call = given.length ? `(${given.map((k) => `${k}: $${k}`).join(', ')})` : '';
  const variables: Record<string, unknown> = { pk };
  for (const key of given) variables[key] = args[key] instanceof Date ? (args[key] as Date).toISOString() : args[key];
  return {
    query: `query ${model.roots.get}_${name}(${defs}) { ${model.roots.get}(pk: $pk) { ${name}${call} } }`,
    variables,
  };
}

export async function callMethod(client: Client, model: ModelMeta, name: string, pk: string | number,
  args: Record<string, unknown> = {}): Promise<unknown> {
  const doc = methodDocument(model, name, pk, args);
  const data = await client.request<Record<string, Record<string, unknown> | null>>(doc.query, doc.variables);
  const row = data[model.roots.get!];
  if (!row) throw new DoesNotExist(model.name);
  return row[name];
}
