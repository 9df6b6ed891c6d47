/**
 * Type tests of the React entry: checked by `tsc --noEmit`, never executed. Each
 * `@ts-expect-error` line must fail to compile.
 */
import { expectTypeOf } from 'vitest';
import { Article, type ArticleFields } from '../../src/generated/models.js';
import type { Instance } from '../../src/index.js';
import type { ArticleTypes } from '../../src/generated/models.js';
import { useCreate, useObject, useQuerySet, useUpdate, type RowOf } from '../../src/react.js';

export function typeChecks(): void {
  // Rows narrow to values(); full rows are instances.
  const titles = useQuerySet(Article.objects.values('id', 'title').limit(5));
  expectTypeOf(titles.rows).toEqualTypeOf<readonly Pick<ArticleFields, 'id' | 'title'>[]>();
  // @ts-expect-error a column not selected
  void titles.rows[0]?.content;
  const picked = Article.objects.values('id', 'title');
  expectTypeOf<RowOf<typeof picked>>().toEqualTypeOf<Pick<ArticleFields, 'id' | 'title'>>();
  const withAuthor = useQuerySet(Article.objects.select_related('author').limit(5));
  expectTypeOf(withAuthor.rows[0]?.author?.username).toEqualTypeOf<string | undefined>();
  const full = useQuerySet(Article.objects.filter({ published: true }));
  expectTypeOf(full.rows[0]).toEqualTypeOf<Instance<ArticleTypes> | undefined>();

  const one = useObject(Article.objects, { pk: 5 });
  expectTypeOf(one.object).toEqualTypeOf<Instance<ArticleTypes> | null>();
  // @ts-expect-error kwargs are the model's lookups
  useObject(Article.objects, { nope: 5 });
  const narrow = useObject(Article.objects.values('title'), { pk: 5 });
  expectTypeOf(narrow.object).toEqualTypeOf<Pick<ArticleFields, 'title'> | null>();

  // Field errors are keyed by the input's fields (and __all__).
  const save = useUpdate(Article.objects);
  void save.fieldErrors.title;
  void save.fieldErrors.__all__;
  // @ts-expect-error not a field of ArticleUpdateInput
  void save.fieldErrors.nope;
  void save.run(5, { title: 'x' });
  // @ts-expect-error wrong value type
  void save.run(5, { title: 5 });
  const create = useCreate(Article.objects);
  void create.run({ title: 't', content: 'c', author: 1 });
  // @ts-expect-error a required field is missing
  void create.run({ title: 't' });
}
