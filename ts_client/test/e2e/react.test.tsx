// @vitest-environment happy-dom
/**
 * The React entry in a DOM (happy-dom) against the run's daphne: components that
 * use the hooks are rendered in StrictMode, writes come from another Django
 * process (as a worker or the admin would write), and the assertions read the
 * rendered DOM, as a person would read the page.
 */
import { act, StrictMode, useState, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Article, type ArticleFields } from '../../src/generated/models.js';
import { tokenAuth, logout, DoesNotExist, GraphQLRequestError, type Client, type ChangeEvent } from '../../src/index.js';
import { useCurrentUser, useMutation, useObject, useQuerySet, useUpdate } from '../../src/react.js';
import { PASSWORD, client, clientAs, clients, pythonSession, unique, until } from './helpers.js';

declare global {
  // React's flag: "updates are wrapped in act()" (it warns otherwise).
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}

/**
 * React's act() for what the test itself does (render, submit); changes pushed by
 * the server arrive outside it, so the flag is on only meanwhile.
 */
async function inAct(work: () => unknown): Promise<void> {
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  try {
    await act(async () => {
      await work();
    });
  } finally {
    globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  }
}

let root: Root | null = null;
let container: HTMLElement;

beforeAll(() => {
  // The page's origin is the server's, as for a page Django serves.
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(new URL(inject('graphqlUrl')).origin);
});
const py = pythonSession('from myproject.models import Article, Tag, User\nu = User.objects.order_by("id").first()');
const users = clients({ editor: 'editor' });
afterEach(async () => {
  await inAct(() => root?.unmount());
  root = null;
  container?.remove();
});

async function render(node: ReactNode): Promise<void> {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  await inAct(() => root!.render(<StrictMode>{node}</StrictMode>));
}

/** Wait until the rendered text satisfies `predicate` (changes come from another process). */
async function shows(predicate: (text: string) => boolean, what: string): Promise<void> {
  await until(() => predicate(container.textContent ?? ''), 20_000, `${what}; the page shows: ${container.textContent}`);
}

const texts = (selector: string): string[] => [...container.querySelectorAll(selector)].map((e) => e.textContent ?? '');

describe('useQuerySet', () => {
  type Row = Pick<ArticleFields, 'id' | 'title'>;

  function Titles({ prefix, db, events, renders }: {
    prefix: string; db: Client; events?: ChangeEvent<Row>[]; renders?: string[];
  }) {
    // Built inline on every render, as people write it: the hook keeps one live result per query.
    const { rows, loading, error, status } = useQuerySet(
      Article.objects.using(db).filter({ title__startswith: prefix }).values('id', 'title').order_by('title').limit(3),
      { onEvent: (event) => events?.push(event) },
    );
    renders?.push(error ? 'error' : loading ? 'loading' : 'rows');
    if (error) return <p className="error">{String(error)}</p>;
    if (loading) return <p className="loading">Loading…</p>;
    return (
      <ul data-status={status}>
        {rows.map((row) => <li key={row.id} data-pk={row.id}>{row.title}</li>)}
      </ul>
    );
  }

  it('renders loading, then the rows, and follows creates, moves and deletes from Python', async () => {
    const prefix = unique('react');
    await py.run(`for t in ["b", "d", "f", "h"]: Article.objects.create(title="${prefix}-" + t, content="c", author=u)`);
    const events: ChangeEvent<Row>[] = [];
    const renders: string[] = [];
    await render(<Titles prefix={prefix} db={users.editor} events={events} renders={renders} />);
    await shows((t) => t.includes(`${prefix}-f`), 'the first rows');
    // Nothing suspended: the component rendered its loading state, then its rows.
    expect(renders[0]).toBe('loading');
    expect(renders.at(-1)).toBe('rows');
    expect(renders).not.toContain('error');
    expect(texts('li')).toEqual([`${prefix}-b`, `${prefix}-d`, `${prefix}-f`]);

    await py.run(`Article.objects.create(title="${prefix}-a", content="c", author=u)`);
    await until(() => texts('li')[0] === `${prefix}-a`, 20_000, 'the created row first');
    expect(texts('li')).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-d`]);

    await py.run(`a = Article.objects.get(title="${prefix}-b"); a.title = "${prefix}-z"; a.save()`);
    await until(() => !texts('li').includes(`${prefix}-b`), 20_000, 'the renamed row moved out');
    expect(texts('li')).toEqual([`${prefix}-a`, `${prefix}-d`, `${prefix}-f`]);

    await py.run(`Article.objects.filter(title="${prefix}-a").delete()`);
    await until(() => !texts('li').includes(`${prefix}-a`), 20_000, 'the deleted row gone');
    expect(texts('li')).toEqual([`${prefix}-d`, `${prefix}-f`, `${prefix}-h`]);
    expect(container.querySelector('ul')?.dataset.status).toBe('ready');
    // onEvent sees every change; a re-read may show a deletion before its event arrives.
    await until(() => events.some((e) => e.op === 'DELETED'), 20_000, 'the DELETED event');
    expect(events.map((e) => e.op)).toEqual(expect.arrayContaining(['CREATED', 'UPDATED', 'DELETED']));
  });

  it('keeps its live result across renders and switches when the query changes', async () => {
    const first = unique('react-one');
    const second = unique('react-two');
    await py.run(`Article.objects.create(title="${first}-x", content="c", author=u); Article.objects.create(title="${second}-y", content="c", author=u)`);
    let choose: (prefix: string) => void = () => {};
    let bump: () => void = () => {};
    const seen: string[] = [];
    function Switcher() {
      const [prefix, setPrefix] = useState(first);
      const [, setTick] = useState(0);
      choose = setPrefix;
      bump = () => setTick((n) => n + 1);
      const { rows, loading } = useQuerySet(
        Article.objects.using(users.editor).filter({ title__startswith: prefix }).values('id', 'title').limit(5),
      );
      seen.push(loading ? 'loading' : rows.map((r) => r.title).join(','));
      return <p>{loading ? 'loading' : rows.map((r) => r.title).join(',')}</p>;
    }
    await render(<Switcher />);
    await shows((t) => t === `${first}-x`, 'the first query');
    const before = seen.length;
    await inAct(() => bump()); // a render with a new queryset object for the same query
    expect(seen.slice(before)).not.toContain('loading');
    expect(container.textContent).toBe(`${first}-x`);
    await inAct(() => choose(second));
    await shows((t) => t === `${second}-y`, 'the second query');
  });

  it('shows a refused query as an error state, not a thrown render', async () => {
    const overcommitted = await clientAs('editor', { maxComplexity: 10_000_000 });
    function TooMany() {
      // A client told the server allows more than it does sends a page the server refuses
      // (a limit above the server's page is paged, as Django's qs[:n], so that is not refused).
      const { error, loading } = useQuerySet(
        Article.objects.using(overcommitted).prefetch_related('tags', 'comment_set__author').limit(500));
      if (loading) return <p>loading</p>;
      return <p className="error">{error instanceof GraphQLRequestError ? error.code : String(error)}</p>;
    }
    await render(<TooMany />);
    await until(() => container.querySelector('.error') !== null, 20_000, 'the error state');
    expect(container.textContent).toBe('LIMIT_EXCEEDED');
    await overcommitted.close();
  });

  it('select_related and prefetch_related rows stay live: a tag added in Python shows on its row', async () => {
    const prefix = unique('react-related');
    const tag = unique('tag');
    const pk = String(await py.run<number>(`a = Article.objects.create(title="${prefix}", content="c", author=u); result = a.pk`));
    function Rows() {
      const { rows } = useQuerySet(
        Article.objects.using(users.editor).filter({ title__startswith: prefix }).select_related('author').prefetch_related('tags').limit(5),
      );
      return (
        <ul>
          {rows.map((row) => (
            <li key={row.id}>
              <span className="author">{row.author?.username}</span>
              <span className="tags">{row.tags.cached.map((t) => t.name).join(',')}</span>
            </li>
          ))}
        </ul>
      );
    }
    await render(<Rows />);
    const username = await py.run<string>('result = u.username');
    await until(() => texts('.author')[0] === username, 20_000, 'the author, selected with the row');
    expect(texts('.tags')).toEqual(['']);
    await py.run(`t = Tag.objects.create(name="${tag}"); t.articles.add(${pk})`);
    await until(() => texts('.tags')[0] === tag, 20_000, 'the new tag on the row');
  });

  it('null runs nothing', async () => {
    function Nothing() {
      const state = useQuerySet(null);
      return <p>{`${state.loading}:${state.rows.length}:${state.status}`}</p>;
    }
    await render(<Nothing />);
    expect(container.textContent).toBe('false:0:idle');
  });
});

describe('useObject', () => {
  it('one row, live, then DoesNotExist once it is deleted', async () => {
    const title = unique('react-object');
    const pk = await py.run<number>(`a = Article.objects.create(title="${title}", content="c", author=u); result = a.pk`);
    function Detail({ id }: { id: string }) {
      const { object, loading, error } = useObject(Article.objects.using(users.editor), { pk: id });
      if (loading) return <p>loading</p>;
      if (error instanceof DoesNotExist) return <p className="gone">gone</p>;
      return <h1>{object?.title}</h1>;
    }
    await render(<Detail id={String(pk)} />);
    await shows((t) => t === title, 'the row');
    await py.run(`a.title = "${title}-renamed"; a.save()`);
    await shows((t) => t === `${title}-renamed`, 'the new title');
    await py.run('a.delete()');
    await shows((t) => t === 'gone', 'DoesNotExist');
  });
});

describe('useUpdate: a form with Django\'s validation errors', () => {
  it('shows the field error from full_clean(), then saves the fix; the live row follows', async () => {
    const title = unique('react-form');
    const pk = String(await py.run<number>(`a = Article.objects.create(title="${title}", content="c", author=u); result = a.pk`));
    let submit: (value: string) => Promise<unknown> = async () => undefined;
    function Form() {
      const { object } = useObject(Article.objects.using(users.editor), { pk });
      const save = useUpdate(Article.objects.using(users.editor));
      submit = (value) => save.run(pk, { title: value });
      return (
        <form>
          <output className="current">{object?.title}</output>
          {save.pending && <span className="pending">saving</span>}
          {save.fieldErrors.title?.map((message) => <span key={message} className="title-error">{message}</span>)}
          {save.result && <span className="saved">saved {save.result.title}</span>}
        </form>
      );
    }
    await render(<Form />);
    await until(() => texts('.current')[0] === title, 20_000, 'the form loaded');
    let outcome: unknown = 'unset';
    await inAct(async () => {
      outcome = await submit('');
    });
    expect(outcome).toBeUndefined(); // a refused write resolves, it does not reject
    expect(texts('.title-error')).toEqual(['This field cannot be blank.']);
    expect(await py.run(`a.refresh_from_db(); result = a.title`)).toBe(title); // nothing saved

    await inAct(async () => {
      await submit(`${title}-fixed`);
    });
    expect(texts('.title-error')).toEqual([]);
    expect(texts('.saved')).toEqual([`saved ${title}-fixed`]);
    await until(() => texts('.current')[0] === `${title}-fixed`, 20_000, 'the live row updated');
  });

  it('keeps other failures apart from field errors', async () => {
    const anonymous = client();
    let submit: () => Promise<unknown> = async () => undefined;
    function Form() {
      const save = useMutation((data: { title: string }) => Article.objects.using(anonymous).create({ ...data, content: 'c', author: 1 }));
      submit = () => save.run({ title: 'x' });
      return <p>{save.error instanceof GraphQLRequestError ? save.error.code : 'none'}:{Object.keys(save.fieldErrors).length}</p>;
    }
    await render(<Form />);
    await inAct(async () => {
      await submit();
    });
    expect(container.textContent).toBe('FORBIDDEN:0');
    await anonymous.close();
  });
});

describe('useCurrentUser', () => {
  it('follows login and logout', async () => {
    const c = client();
    function Who() {
      const { user, loading } = useCurrentUser(c);
      return <p>{loading ? 'loading' : (user?.username ?? 'anonymous')}</p>;
    }
    await render(<Who />);
    await shows((t) => t === 'anonymous', 'anonymous first');
    await inAct(async () => {
      await tokenAuth({ username: 'viewer', password: PASSWORD }, c);
    });
    await shows((t) => t === 'viewer', 'the user after login');
    await inAct(async () => {
      await logout(c);
    });
    await shows((t) => t === 'anonymous', 'anonymous after logout');
    await c.close();
  });
});
