/**
 * Actions: model methods the server runs as mutations on one object,
 * `await article.publish()`. The server checks the permission, runs the method in a
 * transaction and answers the object as it is afterwards; a ValidationError raised
 * inside rejects here as ValidationError with Django's messages.
 */
import type { Client } from './client.js';
import { selection, type Document } from './compile.js';
import { DoesNotExist, ValidationError, type FieldError } from './protocol.js';
import type { ModelMeta } from './types.js';

export function actionDocument(model: ModelMeta, name: string, pk: string | number,
  args: Record<string, unknown>): Document {
  const meta = model.actions?.[name];
  if (!meta) throw new Error(`${model.name} has no action '${name}'.`);
  const given = Object.keys(args).filter((k) => args[k] !== undefined);
  for (const key of given) if (!(key in meta.arguments)) throw new Error(`${model.name}.${name} takes no argument '${key}'.`);
  const defs = ['$pk: ID!', ...given.map((k) => `$${k}: ${meta.arguments[k]}`)].join(', ');
  const call = ['pk: $pk', ...given.map((k) => `${k}: $${k}`)].join(', ');
  const variables: Record<string, unknown> = { pk };
  for (const key of given) variables[key] = args[key] instanceof Date ? (args[key] as Date).toISOString() : args[key];
  return {
    query: `mutation ${meta.field}(${defs}) { ${meta.field}(${call}) { ok pk errors { field message code } node { ${selection(model, null)} } } }`,
    variables,
  };
}

/** Run the action; resolves to the object's row as the server reads it afterwards. */
export async function callAction(client: Client, model: ModelMeta, name: string, pk: string | number,
  args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const doc = actionDocument(model, name, pk, args);
  const data = await client.request<Record<string, { ok: boolean; pk: string | null; errors: FieldError[];
    node: Record<string, unknown> | null }>>(doc.query, doc.variables);
  const result = data[model.actions![name]!.field]!;
  if (!result.ok) {
    const missing = result.errors.find((e) => e.field === 'pk' && e.code === 'not_found');
    if (missing) throw new DoesNotExist(model.name, missing.message);
    throw new ValidationError(model.name, result.errors);
  }
  return result.node ?? { [model.pk]: result.pk };
}
