/**
 * A dashboard of aggregates over the articles the user may read: Django's
 * `aggregate()` and `values('published').annotate(...)`, each one SQL query on the
 * server after the row rules (anonymous users count published articles only). It
 * is live: every article change that commits (the API, the admin, a shell, a
 * worker) reads the figures again, and so does logging in or out.
 */
import { useEffect, useState } from 'react';
import { Article } from '../../../../ts_client/src/generated/models.js';
import { Avg, Count, Max } from '../../../../ts_client/src/index.js';
import { useDemo } from '../app.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

const articles = Article.objects.using(client);

async function readFigures() {
  const [totals, byStatus] = await Promise.all([
    articles.aggregate({
      articles: Count(), authors: Count('author_id', { distinct: true }),
      average_title: Avg('title_length'), latest: Max('created_at'),
    }),
    articles.values('published').annotate({ n: Count(), average_title: Avg('title_length') }),
  ]);
  return { totals, byStatus };
}
type Figures = Awaited<ReturnType<typeof readFigures>>;

/**
 * The figures, read once the change subscription is ready (so no change between the
 * read and the subscription is missed) and again after every change; changes that
 * arrive during a read are answered by one more read, not one per change.
 */
function useLiveFigures(userKey: string) {
  const [figures, setFigures] = useState<Figures | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reads, setReads] = useState(0);
  useEffect(() => {
    let stopped = false;
    let reading = false;
    let again = false;
    const read = () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      readFigures().then((next) => {
        if (stopped) return;
        setFigures(next);
        setError(null);
        setReads((n) => n + 1);
      }, (failure: unknown) => {
        if (!stopped) setError(failure);
      }).finally(() => {
        reading = false;
        if (again && !stopped) {
          again = false;
          read();
        }
      });
    };
    const subscription = articles.values('id').subscribe({ onEvent: read });
    return () => {
      stopped = true;
      subscription.unsubscribe();
    };
  }, [userKey]);
  return { figures, error, reads };
}

const format = (value: number | null, digits = 1) => (value === null ? '–' : value.toFixed(digits));

export function Dashboard() {
  const { user } = useDemo();
  const { figures, error, reads } = useLiveFigures(user?.username ?? '');
  return (
    <>
      <h2>Dashboard</h2>
      {error !== null && <p className="errornote" role="alert">{describe(error)}</p>}
      {figures === null ? <p className="loading">Loading…</p> : (
        <div id="dashboard" data-reads={reads}>
          <dl className="figures">
            <div data-stat="articles"><dt>Articles</dt><dd>{figures.totals.articles}</dd></div>
            <div data-stat="authors"><dt>Authors</dt><dd>{figures.totals.authors}</dd></div>
            <div data-stat="average_title"><dt>Average title</dt><dd>{format(figures.totals.average_title)} characters</dd></div>
            <div data-stat="latest"><dt>Latest</dt><dd>
              {figures.totals.latest === null ? '–'
                : <time dateTime={figures.totals.latest}>{new Date(figures.totals.latest).toLocaleString()}</time>}
            </dd></div>
          </dl>
          <table id="by-status">
            <thead><tr><th>Status</th><th>Articles</th><th>Average title</th></tr></thead>
            <tbody>
              {figures.byStatus.map((group) => (
                <tr key={String(group.published)} data-published={String(group.published)}>
                  <td>{group.published ? 'Published' : 'Draft'}</td>
                  <td className="n">{group.n}</td>
                  <td className="average_title">{format(group.average_title)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {!user && <p className="hint">Anonymous: published articles only. Log in to count the drafts you may read.</p>}
        </div>
      )}
    </>
  );
}
