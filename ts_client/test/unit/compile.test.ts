/** The QuerySet compiler against the generated demo metadata: no server needed. */
import { describe, expect, it } from 'vitest';
import { changesDocument, compileKwargs, compileOrder } from '../../src/compile.js';
import { Article, Comment, Tag, User, schema } from '../../src/generated/models.js';
import { LookupError, RelatedManager, type ModelMeta } from '../../src/index.js';

const meta = (name: string): ModelMeta => schema.models[name]!;
const kw = (model: string, kwargs: object) => compileKwargs(schema, meta(model), kwargs);

describe('lookup map: Django keys to filter inputs', () => {
  it.each([
    ['published', true, { published: { exact: true } }],
    ['title__icontains', 'x', { title: { icontains: 'x' } }],
    ['id__in', [1, 2], { id: { in: [1, 2] } }],
    ['pk', 7, { id: { exact: 7 } }],
    ['pk__in', [7], { id: { in: [7] } }],
    ['created_at__year__gte', 2020, { created_at: { year: { gte: 2020 } } }],
    ['created_at__date__month', 3, { created_at: { date: { month: { exact: 3 } } } }],
    ['author__username', 'ada', { author: { username: { exact: 'ada' } } }],
    ['author', 5, { author: { id: { exact: 5 } } }],
    ['author__in', [5, 6], { author: { id: { in: [5, 6] } } }],
    ['author__pk', 5, { author: { id: { exact: 5 } } }],
    ['author__profile__role', 'EDITOR', { author: { profile: { role: { exact: 'EDITOR' } } } }],
    ['tags__name__istartswith', 'dj', { tags: { name: { istartswith: 'dj' } } }],
    ['content', null, { content: { isnull: true } }],
    ['content__exact', null, { content: { isnull: true } }],
  ])('%s', (key, value, expected) => {
    expect(kw('Article', { [key]: value })).toEqual(expected);
  });

  it('merges keys on one relation into one nested filter (one join, as in Django)', () => {
    expect(kw('Article', {
      author__username: 'ada', author__is_active: true, created_at__year__gte: 2020, created_at__year__lte: 2024,
    })).toEqual({
      author: { username: { exact: 'ada' }, is_active: { exact: true } },
      created_at: { year: { gte: 2020, lte: 2024 } },
    });
  });

  it('sends dates as ISO strings and skips undefined keys', () => {
    const when = new Date('2024-01-31T12:00:00Z');
    expect(kw('Article', { created_at__range: [when, when], title: undefined })).toEqual({
      created_at: { range: ['2024-01-31T12:00:00.000Z', '2024-01-31T12:00:00.000Z'] },
    });
  });

  it.each([
    ['nope', /Article has no field 'nope'/],
    ['published__icontains', /'icontains' is not a lookup/],
    ['title__year', /'year' is not a lookup/],
    ['author__nope', /User has no field 'nope'/],
    ['status__icontains', /not a lookup/],
  ])('rejects %s at run time too', (key, message) => {
    const model = key.startsWith('status') ? 'Comment' : 'Article';
    expect(() => kw(model, { [key]: 'x' })).toThrow(LookupError);
    expect(() => kw(model, { [key]: 'x' })).toThrow(message);
  });

  it('orders by fields, relations and directions', () => {
    const article = meta('Article');
    expect(compileOrder(schema, article, '-created_at')).toEqual({ created_at: 'DESC' });
    expect(compileOrder(schema, article, 'author__username')).toEqual({ author: { username: 'ASC' } });
    expect(compileOrder(schema, article, '-author')).toEqual({ author: { id: 'DESC' } });
    expect(compileOrder(schema, article, 'pk')).toEqual({ id: 'ASC' });
    expect(() => compileOrder(schema, article, 'tags__name')).toThrow(/Cannot order Article by 'tags__name'/);
  });
});

describe('documents (snapshots)', () => {
  it('list: filter, exclude, ordering, slicing', () => {
    const qs = Article.objects
      .filter({ published: true, title__icontains: 'django' })
      .exclude({ author__username: 'spam' })
      .order_by('-created_at', 'title')
      .offset(20)
      .limit(10);
    expect(qs.toGraphQL()).toMatchSnapshot();
  });

  it('unfiltered list declares no variables', () => {
    expect(Tag.objects.all().toGraphQL()).toEqual({
      query: 'query tag_list { tag_list { id name } }',
      variables: {},
    });
  });

  it('values() narrows the selection; where() passes a raw filter', () => {
    const qs = User.objects.where({ OR: [{ username: { exact: 'a' } }, { email: { iendswith: '@x.org' } }] })
      .values('id', 'username');
    expect(qs.toGraphQL()).toMatchSnapshot();
  });

  it('querysets are immutable', () => {
    const base = Article.objects.filter({ published: true });
    const narrowed = base.filter({ title__icontains: 'x' }).order_by('title').limit(1);
    expect(base.toGraphQL().variables).toEqual({ filters: { published: { exact: true } } });
    expect(narrowed.toGraphQL().variables).toEqual({
      // Two filter() calls: a chain, as Django's (each may match another related row).
      filters: { CHAIN: [{ published: { exact: true } }, { title: { icontains: 'x' } }] },
      ordering: [{ title: 'ASC' }],
      limit: 1,
    });
  });

  it('relation managers filter through the relation leading back', () => {
    const binding = { schema, model: meta('User'), client: null };
    const articles = new RelatedManager(binding, 'article_set', 42).filter({ published: true });
    // The manager's own filter and the next one are one call (Django's sticky filter).
    expect(articles.toGraphQL().variables).toEqual({
      filters: { AND: [{ author: { id: { exact: 42 } } }, { published: { exact: true } }] },
    });
    expect(articles.filter({ title: 'x' }).toGraphQL().variables).toEqual({
      filters: { CHAIN: [{ AND: [{ author: { id: { exact: 42 } } }, { published: { exact: true } }] }, { title: { exact: 'x' } }] },
    });
    const tags = new RelatedManager({ ...binding, model: meta('Article') }, 'tags', 7).all();
    expect(tags.toGraphQL().variables).toEqual({ filters: { articles: { id: { exact: 7 } } } });
  });

  it('subscription document declares `after` for resumes', () => {
    const comment = meta('Comment');
    const live = { ...comment, roots: { ...comment.roots, changes: 'comment_changes' } };
    expect(changesDocument(live, kw('Comment', { status: 'visible' }), 'id body')).toMatchSnapshot();
  });
});

describe('Django-exact: query names, Q, relations in the same document', () => {
  it.each([
    ['User', 'article__title__icontains', 'x', { article_set: { title: { icontains: 'x' } } }],
    ['User', 'article__isnull', true, { article_set: { id: { isnull: true } } }],
    ['User', 'profile__isnull', false, { profile: { id: { isnull: false } } }],
    ['Article', 'comment__author__username', 'ada', { comment_set: { author: { username: { exact: 'ada' } } } }],
    ['Article', 'author__isnull', true, { author: { id: { isnull: true } } }],
    ['Tag', 'articles__title', 't', { articles: { title: { exact: 't' } } }],
  ])('%s %s', (model, key, value, expected) => {
    expect(kw(model, { [key]: value })).toEqual(expected);
  });

  it('refuses the accessor name where Django does, naming the right one', () => {
    expect(() => kw('User', { article_set__title: 'x' })).toThrow(/no field 'article_set' \(Django's lookups name it 'article'\)/);
  });

  it('Q: OR, AND and NOT nest as written; several conditions AND together', () => {
    const q = Article.Q({ title__icontains: 'a' }).or({ published: true }).and(Article.Q({ author: 5 }).not());
    expect(Article.objects.filter(q, { id__gt: 1 }).toGraphQL().variables.filters).toEqual({
      AND: [
        { AND: [{ OR: [{ title: { icontains: 'a' } }, { published: { exact: true } }] }, { NOT: { author: { id: { exact: 5 } } } }] },
        { id: { gt: 1 } },
      ],
    });
    expect(Article.objects.exclude(q).toGraphQL().variables.filters).toEqual({ NOT: q.compile(schema, meta('Article')) });
  });

  it('select_related and prefetch_related select the relations, to-many ones with their count', () => {
    const doc = Comment.objects.select_related('article__author').prefetch_related('article__tags').toGraphQL();
    expect(doc.query).toBe(
      'query comment_list { comment_list { id article_id author_id body status created_at '
      + 'article { id title content author_id published created_at cover { name url } title_length reading_time tag_names '
      + 'author { id email username is_active created_at } '
      + 'tags(limit: 100) { id name } tags_count } } }');
    expect(() => (Article.objects.select_related as (p: string) => unknown)('comment_set')).toThrow(/prefetch_related/);
    expect(() => (Article.objects.prefetch_related as (p: string) => unknown)('nope')).toThrow(/no relation 'nope'/);
  });

  it('values() selects nested fields for spans and a relation by its stored key', () => {
    const doc = Comment.objects.values('id', 'article', 'author__username', 'article__author__pk').toGraphQL();
    expect(doc.query).toBe('query comment_list { comment_list { id article_id author { username } article { author { id } } } }');
    expect(() => Article.objects.values('tags__name' as never)).toThrow(/'tags' is a to-many relation/);
  });
});
