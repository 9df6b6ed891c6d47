/**
 * Type tests: checked by `tsc --noEmit` in `npm test`, never executed. Each
 * `@ts-expect-error` line must fail to compile; if it compiles, tsc reports the
 * unused directive and the run fails.
 */
import { expectTypeOf } from 'vitest';
import { Article, Comment, Tag, User, type ArticleFields } from '../../src/generated/models.js';
import { ValidationError, type ChangeEvent, type Instance, type QuerySet, type RelatedManager, type Scoped } from '../../src/index.js';
import type { ArticleTypes, TagTypes } from '../../src/generated/models.js';

export async function typeChecks(): Promise<void> {
  // Django lookups, relation spans, transforms and pk aliases compile.
  Article.objects.filter({ published: true, title__icontains: 'x', created_at__year__gte: 2020 });
  Article.objects.filter({ author__username: 'ada', author__username__iexact: 'ADA', id__in: [1, '2'] });
  Article.objects.filter({ created_at__date__year: 2024, created_at__gte: new Date(), pk: 5, author: 3 });
  Article.objects.filter({ author__profile__role: 'EDITOR', tags__name__in: ['a', 'b'], created_at__range: ['2020-01-01T00:00:00Z', new Date()] });
  Comment.objects.filter({ status: 'visible', article__author__is_active: true, body__isnull: false });
  User.objects.exclude({ article_set__published: false }).order_by('-created_at', 'username', 'profile__role');
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
