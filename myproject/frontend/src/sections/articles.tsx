/**
 * The latest published articles with their author and tags, kept live by
 * `useQuerySet`: a change anywhere (the API, the admin, a shell, a worker) moves,
 * adds or removes rows, and the row that changed is highlighted for a moment.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Article, type ArticleFields } from '../../../../ts_client/src/generated/models.js';
import type { ChangeEvent, ChangeOp, LiveStatus } from '../../../../ts_client/src/index.js';
import { useQuerySet } from '../../../../ts_client/src/react.js';
import { useDemo } from '../app.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

const SHOWN = 10;
const HIGHLIGHT_MS = 4000;

type Row = Pick<ArticleFields, 'id' | 'title' | 'created_at'>;
const latest = Article.objects.using(client).filter({ published: true })
  .values('id', 'title', 'created_at').order_by('-created_at', '-id').limit(SHOWN);

/**
 * Author and tags, read with a nested GraphQL selection through the client (the
 * live rows carry columns only). Rows are read again when a change touched them
 * and when the user changes (authors need Django's view permission on users).
 */
interface Detail {
  id: string;
  author: { username: string } | null;
  tags: { id: string; name: string }[];
}
const DETAILS = `query article_details($pks: [ID!]!) {
  article_list(filters: {id: {in: $pks}}, limit: ${SHOWN * 5}) { id author { username } tags { id name } }
}`;
const NONE: ReadonlyMap<string, Detail> = new Map();

function useDetails(rows: readonly Row[], viewer: string): { details: ReadonlyMap<string, Detail>; touched(pk: string): void } {
  const [read, setRead] = useState<{ viewer: string; details: ReadonlyMap<string, Detail> }>({ viewer, details: NONE });
  const stale = useRef(new Set<string>());
  const details = read.viewer === viewer ? read.details : NONE;
  const wanted = rows.map((row) => row.id).filter((pk) => !details.has(pk) || stale.current.has(pk)).join(',');
  useEffect(() => {
    if (!wanted) return;
    const pks = wanted.split(',');
    for (const pk of pks) stale.current.delete(pk);
    client.request<{ article_list: Detail[] }>(DETAILS, { pks }).then((data) => {
      setRead((before) => {
        const next = new Map(before.viewer === viewer ? before.details : NONE);
        for (const detail of data.article_list) next.set(detail.id, detail);
        return { viewer, details: next };
      });
    }, () => {
      // The rows still show; the next change or render asks again.
    });
  }, [wanted, viewer]);
  const touched = useCallback((pk: string) => stale.current.add(pk), []);
  return { details, touched };
}

/** The rows changed in the last few seconds, with what happened to them. */
function useHighlight(): { changed: ReadonlyMap<string, ChangeOp>; flash(pk: string, op: ChangeOp): void } {
  const [changed, setChanged] = useState<ReadonlyMap<string, ChangeOp>>(new Map());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const flash = useCallback((pk: string, op: ChangeOp) => {
    clearTimeout(timers.current.get(pk));
    setChanged((before) => new Map(before).set(pk, op));
    timers.current.set(pk, setTimeout(() => {
      timers.current.delete(pk);
      setChanged((before) => {
        const next = new Map(before);
        next.delete(pk);
        return next;
      });
    }, HIGHLIGHT_MS));
  }, []);
  return { changed, flash };
}

const STATUS: Record<LiveStatus | 'idle', string> = {
  idle: 'Connecting…', connecting: 'Connecting…', ready: 'Live', reconnecting: 'Reconnecting…', closed: 'Closed', error: 'Error',
};

export function Articles() {
  const { user, can, edit, editing } = useDemo();
  const { changed, flash } = useHighlight();
  const onEvent = (event: ChangeEvent<Row>) => {
    if (event.pk === null) return;
    touched(event.pk);
    flash(event.pk, event.op);
  };
  const { rows, loading, error, status } = useQuerySet(latest, { onEvent });
  const { details, touched } = useDetails(rows, user?.id ?? '');
  const editable = can('myproject.change_article');

  return (
    <>
      <h2>Latest articles <span id="status" data-status={status}>{STATUS[status]}</span></h2>
      {error !== null && <p className="errornote" role="alert">{describe(error)}</p>}
      {loading && <p className="loading">Loading…</p>}
      <ul id="articles">
        {rows.map((row) => {
          const detail = details.get(row.id);
          const op = changed.get(row.id);
          return (
            <li key={row.id} data-pk={row.id} data-changed={op} className={[op && 'changed', editing === row.id && 'editing'].filter(Boolean).join(' ') || undefined}>
              <span className="title">{row.title}</span>
              <span className="meta">
                {detail?.author
                  ? <span className="author">by {detail.author.username}</span>
                  : detail && <span className="author unknown" title="Authors need Django's view permission on users">author hidden</span>}
                <time dateTime={row.created_at}>{new Date(row.created_at).toLocaleString()}</time>
              </span>
              <span className="tags">
                {[...(detail?.tags ?? [])].sort((a, b) => a.name.localeCompare(b.name)).map((tag) => (
                  <span key={tag.id} className="tag">{tag.name}</span>
                ))}
              </span>
              <span className="actions">
                {editable && <button type="button" className="edit" onClick={() => edit(row.id)}>Edit</button>}
                {user?.is_staff && <a className="admin" href={`/admin/myproject/article/${row.id}/change/`}>admin</a>}
              </span>
            </li>
          );
        })}
      </ul>
    </>
  );
}
