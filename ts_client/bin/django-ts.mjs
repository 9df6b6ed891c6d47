#!/usr/bin/env node
// @ts-check
/**
 * `django-ts generate`: typed models from what `manage.py export_client_schema`
 * wrote. Usage mistakes print the usage and exit 2; a file that cannot be read or
 * a schema that does not match its manifest prints one line and exits 1.
 */
import { parseArgs } from 'node:util';
import { generate, PACKAGE } from '../codegen/generate.mjs';

const USAGE = `usage: django-ts generate [options]

Generate typed models from \`manage.py export_client_schema\` output.

options:
  --schema FILE     introspection result (default: schema/schema.json)
  --manifest FILE   model manifest (default: schema/models.json)
  --out DIR         where models.ts goes (default: src/generated)
  --depth N         relations a lookup may follow (default: 2)
  --import MODULE   the runtime the generated file imports (default: ${PACKAGE})
  -h, --help        show this help`;

/** @param {string} message @returns {never} */
function usage(message) {
  console.error(`django-ts: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        schema: { type: 'string', default: 'schema/schema.json' },
        manifest: { type: 'string', default: 'schema/models.json' },
        out: { type: 'string', default: 'src/generated' },
        depth: { type: 'string', default: '2' },
        import: { type: 'string', default: PACKAGE },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
}
const { positionals, values } = parse();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length === 0) usage('a command is required (generate).');
if (positionals[0] !== 'generate' || positionals.length > 1) usage(`unknown command '${positionals.join(' ')}'.`);
const depth = Number(values.depth);
if (!Number.isInteger(depth) || depth < 0 || depth > 4) usage(`--depth must be an integer from 0 to 4, not '${values.depth}'.`);

try {
  const files = generate({
    schemaPath: String(values.schema),
    manifestPath: String(values.manifest),
    outDir: String(values.out),
    depth,
    importFrom: String(values.import),
  });
  for (const name of Object.keys(files)) console.log(`wrote ${values.out}/${name}`);
} catch (error) {
  const err = /** @type {NodeJS.ErrnoException} */ (error);
  const what = err.code === 'ENOENT' ? `cannot read ${err.path} (run manage.py export_client_schema first?)` : err.message;
  console.error(`django-ts: ${what}`);
  process.exit(1);
}
