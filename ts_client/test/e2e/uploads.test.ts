/** Files from Node: `create({cover: file})` sends the GraphQL multipart request; the
 * server stores it with the project's storage and answers its URL. */
import { describe, expect, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { GraphQLRequestError, ValidationError } from '../../src/index.js';
import { clients, unique } from './helpers.js';
import { djangoShell } from './server.js';

/** The smallest valid PNG (1x1, transparent). */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

async function storedHex(name: string): Promise<string> {
  const out = await djangoShell(
    `from django.core.files.storage import default_storage as s\nprint(s.open(${JSON.stringify(name)}).read().hex())`,
  );
  return out.trim().split('\n').at(-1)!;
}

describe('uploads', () => {
  const users = clients({ editor: 'editor', sessionEditor: 'editor (session)' });

  it('create({cover: file}) stores the file and answers its URL (token and session + CSRF)', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    for (const c of [users.editor, users.sessionEditor]) {
      const title = unique('upload');
      const cover = new File([PNG], 'cover.png', { type: 'image/png' });
      const created = await Article.objects.using(c).create({ title, content: 'c', author: author.id, cover });
      expect(created.cover?.name).toMatch(/^covers\/cover.*\.png$/);
      expect(created.cover?.url).toBe(`/media/${created.cover!.name}`);
      expect(await storedHex(created.cover!.name)).toBe(PNG.toString('hex'));
      // A plain Blob works too, and update replaces the file.
      const updated = await Article.objects.using(c).update(created.id, { cover: new Blob([PNG], { type: 'image/png' }) });
      expect(updated.cover?.name).toMatch(/^covers\/blob/);
      await Article.objects.using(c).delete(created.id);
    }
  });

  it('a file that is not an image is refused by field', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const title = unique('fake');
    const error = await Article.objects.using(users.editor)
      .create({ title, content: 'c', author: author.id, cover: new File(['not an image'], 'x.png') })
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([expect.objectContaining({ field: 'cover', code: 'file_type' })]);
    expect(await Article.objects.using(users.editor).filter({ title }).count()).toBe(0);
  });

  it('an oversized upload is a clear GraphQL error', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const title = unique('big');
    const big = new Uint8Array(11 * 1024 * 1024);
    big.set(PNG);
    const error = await Article.objects.using(users.editor)
      .create({ title, content: 'c', author: author.id, cover: new File([big], 'big.png') })
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect((error as GraphQLRequestError).code).toBe('LIMIT_EXCEEDED');
    expect((error as GraphQLRequestError).status).toBe(413);
    expect(await Article.objects.using(users.editor).filter({ title }).count()).toBe(0);
  });
});
