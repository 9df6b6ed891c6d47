/** The generator: deterministic, and the committed output is what it makes of schema/. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../codegen/generate.mjs';

const generateTo = (outDir: string) =>
  generate({ schemaPath: 'schema/schema.json', manifestPath: 'schema/models.json', outDir, importFrom: '../index.js' });

describe('generator', () => {
  it('reproduces the committed src/generated from the committed schema files', () => {
    const files = generateTo(mkdtempSync(join(tmpdir(), 'ts-gen-')));
    for (const [name, content] of Object.entries(files)) {
      expect(content, `src/generated/${name} is stale: run npm run generate`).toBe(readFileSync(join('src/generated', name), 'utf8'));
    }
  });

  it('emits per-model types from the manifest: Django field docs, lookups, reverse accessors', () => {
    const models = generateTo(mkdtempSync(join(tmpdir(), 'ts-gen-')))['models.ts']!;
    expect(models).toContain('/** CharField(max_length=200) */\n  title: string;');
    expect(models).toContain('type ArticleLookups = { id: L_ID; title: L_String;');
    expect(models).toContain('related: { article_set: ArticleTypes; comment_set: CommentTypes };');
    expect(models).toContain('export type CommentStatus = "pending" | "visible" | "hidden";');
    expect(models).toMatch(/type L_Boolean = \{ value: boolean; lookups: "exact" \| "isnull"; transforms: \{\} \};/);
  });

  it('refuses a manifest that names a field the schema lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-gen-'));
    const manifest = JSON.parse(readFileSync('schema/models.json', 'utf8'));
    manifest.models['myproject.article'].queries.list = 'article_listing';
    const path = join(dir, 'models.json');
    writeFileSync(path, JSON.stringify(manifest));
    expect(() => generate({ schemaPath: 'schema/schema.json', manifestPath: path, outDir: dir }))
      .toThrow('schema lacks Query.article_listing');
  });
});
