/** Actions against the real server: Article.publish() behind Django's change_article. */
import { describe, expect, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { GraphQLRequestError, ValidationError } from '../../src/index.js';
import { clients, unique } from './helpers.js';

const users = clients({ editor: 'editor', viewer: 'viewer' });

describe('actions', () => {
  it('article.publish() runs the model method and resolves to the object afterwards', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const draft = await Article.objects.using(users.editor).create({ title: unique('draft'), content: 'some words', author: author.id });
    expect(draft.published).toBe(false);
    const published = await draft.publish();
    expect(published.published).toBe(true);
    expect((await Article.objects.using(users.editor).get({ pk: draft.id })).published).toBe(true);
  });

  it('a ValidationError inside is a ValidationError here; without the permission it is FORBIDDEN', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const empty = await Article.objects.using(users.editor).create({ title: unique('empty'), content: '   ', author: author.id });
    const refused = empty.publish();
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/empty article/);
    const seen = await Article.objects.using(users.viewer).get({ pk: empty.id });
    await expect(seen.publish()).rejects.toBeInstanceOf(GraphQLRequestError);
    expect((await Article.objects.using(users.editor).get({ pk: empty.id })).published).toBe(false);
  });
});
