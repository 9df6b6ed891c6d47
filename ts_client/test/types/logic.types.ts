/**
 * Type tests of the business logic a config exposes (computed fields, scopes,
 * actions, aggregates): checked by `tsc --noEmit`, never executed. Each
 * `@ts-expect-error` line must fail to compile.
 */
import { expectTypeOf } from 'vitest';
import { Article } from '../../src/generated/models.js';
import { operations } from '../../src/generated/operations.js';
import { Avg, Count, Max, StdDev, Sum } from '../../src/index.js';

export async function computedChecks(): Promise<void> {
  const article = await Article.objects.get({ pk: 1 });
  // Properties and annotations are typed from the Python annotations.
  expectTypeOf(article.reading_time).toEqualTypeOf<number>();
  expectTypeOf(article.tag_names).toEqualTypeOf<Array<string>>();
  expectTypeOf(article.title_length).toEqualTypeOf<number | null>();
  // A method with typed arguments runs on the server.
  expectTypeOf(await article.summary({ words: 3 })).toEqualTypeOf<string>();
  expectTypeOf(await article.summary()).toEqualTypeOf<string>();
  // @ts-expect-error words is an int
  void article.summary({ words: 'three' });
  // @ts-expect-error no such argument
  void article.summary({ letters: 3 });
  // @ts-expect-error no such method
  void article.summarize();
  // Annotations are SQL: filterable and orderable; properties are not.
  Article.objects.filter({ title_length__gte: 10 }).order_by('-title_length');
  // @ts-expect-error a property is computed in Python: no filter
  Article.objects.filter({ reading_time__gte: 2 });
  // @ts-expect-error nor ordering
  Article.objects.order_by('reading_time');
  const narrowed = await Article.objects.values('id', 'reading_time');
  expectTypeOf(narrowed[0]!.reading_time).toEqualTypeOf<number>();
}

export async function scopeChecks(): Promise<void> {
  // Scopes chain like Django's QuerySet methods, before or after filter().
  const rows = await Article.objects.published().filter({ title__icontains: 'x' }).by_author({ user: 1 })
    .longer_than({ words: 100 }).order_by('-created_at').limit(5);
  expectTypeOf(rows[0]!.reading_time).toEqualTypeOf<number>();
  expectTypeOf(await Article.objects.filter({ published: true }).published().count()).toEqualTypeOf<number>();
  const titles = await Article.objects.values('title').published();
  expectTypeOf(titles).toEqualTypeOf<{ title: string }[]>();
  // @ts-expect-error words is an int
  Article.objects.longer_than({ words: 'many' });
  // @ts-expect-error by_author needs its argument
  Article.objects.by_author();
  // @ts-expect-error no such scope
  Article.objects.drafts();
  // @ts-expect-error published takes no argument
  Article.objects.published({ user: 1 });
}

export async function aggregateChecks(): Promise<void> {
  const stats = await Article.objects.published().aggregate({
    n: Count(), authors: Count('author_id', { distinct: true }), avg: Avg('title_length'),
    total: Sum('title_length'), latest: Max('created_at'), spread: StdDev('title_length'),
  });
  expectTypeOf(stats.n).toEqualTypeOf<number>();
  expectTypeOf(stats.authors).toEqualTypeOf<number>();
  expectTypeOf(stats.avg).toEqualTypeOf<number | null>();
  expectTypeOf(stats.latest).toEqualTypeOf<string | null>();
  // @ts-expect-error a date has no sum
  void Article.objects.aggregate({ bad: Sum('created_at') });
  // @ts-expect-error no such column
  void Article.objects.aggregate({ bad: Max('secret') });
  // @ts-expect-error a property is Python: not aggregatable
  void Article.objects.aggregate({ bad: Avg('reading_time') });
}

export async function groupChecks(): Promise<void> {
  // Django's values(...).annotate(...): the keys as values() types them, then the aggregates.
  const groups = await Article.objects.published().filter({ title__icontains: 'x' }).values('author_id', 'published')
    .annotate({ n: Count(), avg: Avg('title_length'), latest: Max('created_at') }).limit(10);
  expectTypeOf(groups).toEqualTypeOf<Array<{ author_id: string; published: boolean } & {
    n: number; avg: number | null; latest: string | null }>>();
  // @ts-expect-error a span is not a grouping key (the server groups by own columns)
  void Article.objects.values('author__username').annotate({ n: Count() });
  // @ts-expect-error an annotation is not a grouping key
  void Article.objects.values('title_length').annotate({ n: Count() });
  // @ts-expect-error instances do not group: values() first
  void Article.objects.all().annotate({ n: Count() });
  // @ts-expect-error the aggregates are checked as in aggregate(): a date has no sum
  void Article.objects.values('author_id').annotate({ bad: Sum('created_at') });
}

export async function handwrittenChecks(): Promise<void> {
  // Hand-written root fields (register_query / register_mutation) are typed functions.
  expectTypeOf(await operations.trending_articles({ limit: 3 })).toEqualTypeOf<Array<Article>>();
  expectTypeOf(await operations.trending_articles()).toEqualTypeOf<Array<Article>>();
  expectTypeOf(await operations.tag_usage()).toEqualTypeOf<Array<{ name: string; uses: number }>>();
  expectTypeOf(await operations.publish_drafts({ title_contains: 'x' })).toEqualTypeOf<Array<Article>>();
  // @ts-expect-error title_contains is required
  void operations.publish_drafts();
  // @ts-expect-error limit is an Int
  void operations.trending_articles({ limit: 'three' });
  // @ts-expect-error no such argument
  void operations.trending_articles({ size: 3 });
}
