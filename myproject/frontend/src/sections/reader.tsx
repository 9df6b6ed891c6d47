/**
 * The article the address points at (`#article-<pk>`, the list's links), with its
 * visible comments: both live, so an edit or a new comment shows as it commits.
 * A reverse relation read the Django way: `Comment.objects.filter(article=pk)`.
 */
import { Article, Comment } from '../../../../ts_client/src/generated/models.js';
import { DoesNotExist } from '../../../../ts_client/src/index.js';
import { useObject, useQuerySet } from '../../../../ts_client/src/react.js';
import { useDemo } from '../app.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

const articles = Article.objects.using(client).values('id', 'title', 'content', 'created_at');
const comments = Comment.objects.using(client);

export function Reader() {
  const { reading } = useDemo();
  if (reading === null) return null;
  return <Reading key={reading} pk={reading} />;
}

function Reading({ pk }: { pk: string }) {
  const { object, loading, error } = useObject(articles, { pk });
  const thread = useQuerySet(
    comments.filter({ article: pk, status: 'visible' }).values('id', 'body', 'created_at').order_by('created_at', 'id').limit(50),
  );
  if (loading) return <p className="loading">Loading…</p>;
  if (error instanceof DoesNotExist) return <p className="errornote" role="alert">This article is not (or no longer) published.</p>;
  if (!object) return <p className="errornote" role="alert">{describe(error)}</p>;
  return (
    <article id="reading" data-pk={pk}>
      <h2>{object.title}</h2>
      <p className="content">{object.content}</p>
      <h3>Comments <span className="count">{thread.rows.length}</span></h3>
      {thread.error !== null && <p className="errornote" role="alert">{describe(thread.error)}</p>}
      <ol id="comments">
        {thread.rows.map((comment) => (
          <li key={comment.id} data-pk={comment.id}>
            <span className="body">{comment.body}</span>{' '}
            <time dateTime={comment.created_at}>{new Date(comment.created_at).toLocaleString()}</time>
          </li>
        ))}
      </ol>
      <p><a href="#">Close</a></p>
    </article>
  );
}
