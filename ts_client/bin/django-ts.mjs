#!/usr/bin/env node
// @ts-check
/**
 * django-ts generate [--schema schema/schema.json] [--manifest schema/models.json]
 *                    [--out src/generated] [--depth 2]
 * Reads what `manage.py export_client_schema` wrote and emits typed models.
 */
import { parseArgs } from 'node:util';
import { generate } from '../codegen/generate.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    schema: { type: 'string', default: 'schema/schema.json' },
    manifest: { type: 'string', default: 'schema/models.json' },
    out: { type: 'string', default: 'src/generated' },
    depth: { type: 'string', default: '2' },
  },
});
if (positionals[0] !== 'generate') {
  console.error('usage: django-ts generate [--schema FILE] [--manifest FILE] [--out DIR] [--depth N]');
  process.exit(2);
}
const files = generate({
  schemaPath: values.schema,
  manifestPath: values.manifest,
  outDir: values.out,
  depth: Number(values.depth),
});
for (const name of Object.keys(files)) console.log(`wrote ${values.out}/${name}`);
