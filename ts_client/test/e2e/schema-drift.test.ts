/**
 * CI drift check of the Python side: exporting the demo schema now must give the
 * committed ts_client/schema files (and so the committed generated client).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { PACKAGE, PYTHON, ROOT } from './server.js';

it('export_client_schema reproduces ts_client/schema', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ts-schema-'));
  await promisify(execFile)(PYTHON, ['manage.py', 'export_client_schema', '--out', out], {
    cwd: ROOT,
    env: { ...process.env, DJANGO_SETTINGS_MODULE: 'myproject.settings' },
  });
  for (const name of ['schema.graphql', 'schema.json', 'models.json']) {
    const committed = readFileSync(join(PACKAGE, 'schema', name), 'utf8');
    expect(readFileSync(join(out, name), 'utf8'), `ts_client/schema/${name} is stale: run npm run export-schema && npm run generate`).toBe(committed);
  }
});
