/** Bulk writes from TypeScript against the run's daphne: qs.update(), qs.delete(),
 * bulk_create, get_or_create, update_or_create, with Django's answers and refusals. */
import { describe, expect, it } from 'vitest';
import { Article, Comment, Tag, User } from '../../src/generated/models.js';
import { GraphQLRequestError, ValidationError, type RowError } from '../../src/index.js';
import { clients, unique } from './helpers.js';

describe('bulk writes', () => {
  const users = clients({ editor: 'editor', viewer: 'viewer' });

  it('bulk_create, qs.update and qs.delete over a filter', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const prefix = unique('bulk');
    const rows = await Article.objects.using(users.editor).bulk_create(
      [1, 2, 3].map((i) => ({ title: `${prefix}-${i}`, content: 'c', author: author.id })),
    );
    expect(rows.map((r) => r!.title)).toEqual([1, 2, 3].map((i) => `${prefix}-${i}`));
    const mine = Article.objects.using(users.editor).filter({ title__startswith: prefix });
    expect(await mine.count()).toBe(3);

    expect(await mine.filter({ title__endswith: '-1' }).update({ content: 'changed' })).toBe(1);
    expect((await mine.filter({ content: 'changed' })).map((a) => a.title)).toEqual([`${prefix}-1`]);

    const [total, perModel] = await mine.delete();
    expect(total).toBe(3);
    expect(perModel['myproject.Article']).toBe(3);
    expect(await mine.count()).toBe(0);
  });

  it('a refused row refuses the whole call, with its position', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const prefix = unique('refused');
    const error = await Article.objects.using(users.editor)
      .bulk_create([{ title: `${prefix}-ok`, content: 'c', author: author.id }, { title: '', content: 'c', author: author.id }])
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0]).toMatchObject({ index: 1, field: 'title', code: 'blank' } satisfies Partial<RowError>);
    expect(await Article.objects.using(users.editor).filter({ title__startswith: prefix }).count()).toBe(0);
  });

  it('a delete needs the delete permission and counts its cascade as Django does', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const title = unique('cascade');
    const article = await Article.objects.using(users.editor).create({ title, content: 'c', author: author.id });
    await Comment.objects.using(users.editor).create({ article: article.id, author: author.id, body: 'b' });
    // The viewer may not delete at all; the editor may delete articles and comments.
    const refused = await Article.objects.using(users.viewer).filter({ title }).delete().then(() => null, (e: unknown) => e);
    expect((refused as GraphQLRequestError).code).toBe('FORBIDDEN');
    const [total, perModel] = await Article.objects.using(users.editor).filter({ title }).delete();
    expect(perModel).toMatchObject({ 'myproject.Article': 1, 'myproject.Comment': 1 });
    expect(total).toBeGreaterThanOrEqual(2);
  });

  it('get_or_create and update_or_create on a unique field', async () => {
    const name = unique('tag');
    const tags = Tag.objects.using(users.editor);
    const [made, created] = await tags.get_or_create({ name });
    expect([made.name, created]).toEqual([name, true]);
    const [again, createdAgain] = await tags.get_or_create({ name });
    expect([again.id, createdAgain]).toEqual([made.id, false]);
    const [renamed, inserted] = await tags.update_or_create({ name, defaults: { name: `${name}-2` } });
    expect([renamed.id, renamed.name, inserted]).toEqual([made.id, `${name}-2`, false]);
    const [fresh, freshCreated] = await tags.update_or_create({ name, create_defaults: { name: `${name}-3` } });
    expect([fresh.name, freshCreated]).toEqual([`${name}-3`, true]);
    const notUnique = await Article.objects.using(users.editor).get_or_create({ title: name })
      .then(() => null, (e: unknown) => e);
    expect((notUnique as GraphQLRequestError).code).toBe('BAD_USER_INPUT');
    await Tag.objects.using(users.editor).filter({ name__startswith: name }).delete();
  });

  it('a sliced queryset cannot be updated, as in Django', async () => {
    await expect(Article.objects.using(users.editor).all().limit(1).update({ content: 'x' })).rejects.toThrow(TypeError);
  });
});
