/**
 * The latest published articles with their author and tags (select_related,
 * prefetch_related), kept live by `useQuerySet`: a change anywhere (the API, the
 * admin, a shell, a worker) moves, adds or removes rows, and the row that changed
 * is highlighted for a moment.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Article } from '../../../../ts_client/src/generated/models.js';
import type { ChangeEvent, ChangeOp, LiveStatus } from '../../../../ts_client/src/index.js';
import { useQuerySet, type RowOf } from '../../../../ts_client/src/react.js';
import { articleLink, useDemo } from '../app.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

const SHOWN = 10;
const HIGHLIGHT_MS = 4000;

// One request for the rows, their author and their tags; every change event
// carries the same selection, so a new tag or author shows with the change itself.
const latest = Article.objects.using(client).filter({ published: true })
  .select_related('author').prefetch_related('tags')
  .order_by('-created_at', '-id').limit(SHOWN);
type Row = RowOf<typeof latest>;

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
    if (event.pk !== null) flash(event.pk, event.op);
  };
  const { rows, loading, error, status } = useQuerySet(latest, { onEvent });
  const editable = can('myproject.change_article');

  return (
    <>
      <h2>Latest articles <span id="status" data-status={status}>{STATUS[status]}</span></h2>
      {error !== null && <p className="errornote" role="alert">{describe(error)}</p>}
      {loading && <p className="loading">Loading…</p>}
      <ul id="articles">
        {rows.map((row) => {
          const op = changed.get(row.id);
          return (
            <li key={row.id} data-pk={row.id} data-changed={op} className={[op && 'changed', editing === row.id && 'editing'].filter(Boolean).join(' ') || undefined}>
              <a className="title" href={articleLink(row.id)}>{row.title}</a>
              <span className="meta">
                {row.author
                  ? <span className="author">by {row.author.username}</span>
                  : <span className="author unknown" title="Authors need Django's view permission on users">author hidden</span>}
                <time dateTime={row.created_at}>{new Date(row.created_at).toLocaleString()}</time>
              </span>
              <span className="tags">
                {[...row.tags.cached].sort((a, b) => a.name.localeCompare(b.name)).map((tag) => (
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
