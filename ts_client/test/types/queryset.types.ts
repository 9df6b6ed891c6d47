/**
 * Type tests: checked by `tsc --noEmit` in `npm test`, never executed. Each
 * `@ts-expect-error` line must fail to compile; if it compiles, tsc reports the
 * unused directive and the run fails.
 */
import { expectTypeOf } from 'vitest';
import { Article, Comment, Tag, User, type ArticleFields } from '../../src/generated/models.js';
import { ValidationError, type ChangeEvent, type Instance, type QuerySet, type RelatedManager, type Scoped } from '../../src/index.js';
import type { ArticleTypes, CommentTypes, ProfileRole, TagTypes, UserTypes } from '../../src/generated/models.js';

export async function typeChecks(): Promise<void> {
  // Django lookups, relation spans, transforms and pk aliases compile.
  Article.objects.filter({ published: true, title__icontains: 'x', created_at__year__gte: 2020 });
  Article.objects.filter({ author__username: 'ada', author__username__iexact: 'ADA', id__in: [1, '2'] });
  Article.objects.filter({ created_at__date__year: 2024, created_at__gte: new Date(), pk: 5, author: 3 });
  Article.objects.filter({ author__profile__role: 'EDITOR', tags__name__in: ['a', 'b'], created_at__range: ['2020-01-01T00:00:00Z', new Date()] });
  Comment.objects.filter({ status: 'visible', article__author__is_active: true, body__isnull: false });
  User.objects.exclude({ article__published: false }).order_by('-created_at', 'username', 'profile__role');
  Article.objects.order_by('-author__username', 'author__profile__bio', 'pk', '-author');

  // @ts-expect-error unknown field
  Article.objects.filter({ nope: 1 });
  // @ts-expect-error wrong value type (Boolean column)
  Article.objects.filter({ published: 'yes' });
  // @ts-expect-error wrong value type (`in` takes a list)
  Article.objects.filter({ id__in: 5 });
  // @ts-expect-error lookup the field lacks (Boolean has no icontains)
  Article.objects.filter({ published__icontains: 'x' });
  // @ts-expect-error transform on a column that has none
  Article.objects.filter({ title__year: 2020 });
  // @ts-expect-error unknown field behind a relation
  Article.objects.filter({ author__nope: 'x' });
  // @ts-expect-error enum member that does not exist
  Comment.objects.filter({ status: 'deleted' });
  // @ts-expect-error bad order key
  Article.objects.order_by('-nope');
  // @ts-expect-error to-many relations cannot order
  Article.objects.order_by('tags__name');
  // @ts-expect-error values() of an unknown column
  Article.objects.values('id', 'nope');
  // @ts-expect-error create without a required field (content)
  void Article.objects.create({ title: 't', author: 1 });
  // @ts-expect-error update with a wrong value type
  void Article.objects.update(1, { published: 'no' });

  // Results: instances with relation managers; values() narrows.
  const articles = await Article.objects.filter({ published: true }).order_by('-created_at').limit(10);
  expectTypeOf(articles).toEqualTypeOf<Instance<ArticleTypes>[]>();
  expectTypeOf(articles[0]!.title).toEqualTypeOf<string>();
  expectTypeOf(articles[0]!.tags).toEqualTypeOf<RelatedManager<TagTypes>>();
  const narrowed = await Article.objects.values('id', 'title');
  expectTypeOf(narrowed).toEqualTypeOf<Pick<ArticleFields, 'id' | 'title'>[]>();
  // @ts-expect-error values() dropped the other columns
  void narrowed[0]!.content;
  const one: Article = await Article.objects.get({ id: 1 });
  const tags: Tag[] = await one.tags.all();
  expectTypeOf(tags[0]!.name).toEqualTypeOf<string>();
  const user = await User.objects.get({ username: 'ada' });
  const mine = await user.article_set.filter({ published: true }).order_by('title');
  expectTypeOf(mine[0]!.published).toEqualTypeOf<boolean>();
  expectTypeOf(await Article.objects.first()).toEqualTypeOf<Article | null>();
  expectTypeOf(await Article.objects.count()).toEqualTypeOf<number>();
  expectTypeOf(Article.objects.all().values('title')).toEqualTypeOf<Scoped<ArticleTypes, { title: string }>>();

  // Live events carry the queryset's row type.
  Article.objects.values('id', 'title').filter({ published: true }).subscribe({
    onEvent(event) {
      expectTypeOf(event).toEqualTypeOf<ChangeEvent<{ id: string; title: string }>>();
      // @ts-expect-error not selected
      void event.node?.content;
    },
  });
  try {
    await Article.objects.create({ title: 't', content: 'c', author: 1 });
  } catch (error) {
    if (error instanceof ValidationError) expectTypeOf(error.fields.title).toEqualTypeOf<string[] | undefined>();
  }

}

/** The Django-exact pieces: related query names, Q, select/prefetch_related, values() spans. */
export async function djangoChecks(): Promise<void> {
  // Reverse relations by their related query name, __isnull on relations.
  User.objects.filter({ article__title__icontains: 'x', comment__isnull: true, profile__isnull: false });
  Article.objects.filter({ comment__body__icontains: 'x', tags__isnull: true, author__isnull: false });
  // @ts-expect-error the accessor is not a lookup name (Django says `article`)
  User.objects.filter({ article_set__title__icontains: 'x' });
  // @ts-expect-error isnull takes a boolean
  Article.objects.filter({ comment__isnull: 'yes' });

  // Q: OR, AND, NOT of one model's lookups; filter/exclude/get take several.
  const q = Article.Q({ title__icontains: 'a' }).or({ author__username: 'ada' }).and(Article.Q({ published: true }).not());
  Article.objects.filter(q, { id__gt: 1 }).exclude(Article.Q({ tags__name: 'x' }));
  // @ts-expect-error a lookup the model lacks, inside Q
  Article.Q({ nope: 1 });
  // @ts-expect-error a Q of another model
  Article.objects.filter(User.Q({ username: 'ada' }));
  // @ts-expect-error or() of another model's keywords
  Article.Q({ published: true }).or({ username: 'ada' });

  // select_related: to-one relations become instances (or null), nested paths too.
  const comments = await Comment.objects.select_related('article__author', 'author').limit(5);
  expectTypeOf(comments[0]!.author).toEqualTypeOf<Instance<UserTypes> | null>();
  expectTypeOf(comments[0]!.article!.author!.username).toEqualTypeOf<string>();
  expectTypeOf(comments[0]!.article!.tags).toEqualTypeOf<RelatedManager<TagTypes>>();
  const plain = await Article.objects.all().limit(1);
  // @ts-expect-error not selected: a forward relation is absent without select_related
  void plain[0]!.author;
  // @ts-expect-error select_related follows to-one relations only
  Article.objects.select_related('tags');
  // @ts-expect-error unknown relation
  Article.objects.select_related('writer');
  // @ts-expect-error select_related needs a path (Django's no-argument form would type nothing)
  Article.objects.select_related();

  // prefetch_related: to-many managers carry their rows, typed with what is below them.
  const articles = await Article.objects.select_related('author').prefetch_related('tags', 'comment_set__author');
  const article = articles[0]!;
  expectTypeOf(article.tags.cached[0]!.name).toEqualTypeOf<string>();
  expectTypeOf(article.comment_set.cached[0]!.author).toEqualTypeOf<Instance<UserTypes> | null>();
  const fromCache = await article.comment_set.all();
  expectTypeOf(fromCache[0]!.author).toEqualTypeOf<Instance<UserTypes> | null>();
  void article.tags.add(1);
  expectTypeOf(article.author).toEqualTypeOf<Instance<UserTypes> | null>();
  // @ts-expect-error not prefetched: no cached rows
  void plain[0]!.tags.cached;
  // @ts-expect-error unknown prefetch path
  Article.objects.prefetch_related('comment_set__nope');

  // values() through to-one relations, with Django's keys.
  const spans = await Comment.objects.values('id', 'article', 'article__author__username', 'author__profile__role');
  expectTypeOf(spans[0]!).toEqualTypeOf<{
    id: string; article: string; article__author__username: string | null; author__profile__role: ProfileRole | null;
  }>();
  // @ts-expect-error deeper than the generated depth (2 relations)
  Comment.objects.values('article__author__profile__role');
  // @ts-expect-error values() cannot span a to-many relation
  Article.objects.values('tags__name');
  // @ts-expect-error values() spans by query name, not accessor
  User.objects.values('article_set__title');
  expectTypeOf(await Article.objects.values('author__username').distinct()).toEqualTypeOf<{ author__username: string | null }[]>();

  // in_bulk, latest/earliest, get_or_create.
  expectTypeOf(await Article.objects.in_bulk([1, 2])).toEqualTypeOf<Record<string, Instance<ArticleTypes>>>();
  await Tag.objects.in_bulk(['a'], { field_name: 'name' });
  // @ts-expect-error in_bulk keys by a unique column only
  await Article.objects.in_bulk([1], { field_name: 'title' });
  expectTypeOf(await Article.objects.latest('created_at')).toEqualTypeOf<Instance<ArticleTypes>>();
  // @ts-expect-error latest() by an unknown field
  await Article.objects.earliest('nope');
  const [tag, created] = await Tag.objects.get_or_create({ name: 'x' });
  expectTypeOf(tag).toEqualTypeOf<Instance<TagTypes>>();
  expectTypeOf(created).toEqualTypeOf<boolean>();
  // @ts-expect-error defaults are the model's fields
  await Tag.objects.get_or_create({ name: 'x', defaults: { nope: 1 } });
  void (null as unknown as CommentTypes);
}
