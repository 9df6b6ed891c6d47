/**
 * The Celery tasks registered in myproject/graphql.py, started from the page
 * (`tasks.export_published_articles.delay()`), each run followed live through its
 * states (`run.progress()`: PENDING, STARTED, PROGRESS current/total, then SUCCESS
 * with its result or FAILURE with its error). Django's permissions decide who may
 * start which (view_article for the export, change_user for the email).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { tasks } from '../../../../ts_client/src/generated/tasks.js';
import type { TaskRunHandle, TaskRunState } from '../../../../ts_client/src/index.js';
import { useMutation } from '../../../../ts_client/src/react.js';
import { client } from '../client.js';
import { describe } from '../errors.js';

const exportArticles = tasks.export_published_articles.using(client);
const sendEmail = tasks.send_welcome_email.using(client);
// 'farewell' has no template: the task raises, and the run shows how a failure looks.
const TEMPLATES = ['welcome', 'digest', 'farewell'] as const;

/** One run, as it goes: its state, its progress bar, then its result or error. */
function Run({ run }: { run: TaskRunHandle }) {
  const [state, setState] = useState<TaskRunState>(run.last);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const states = run.progress();
    void (async () => {
      try {
        for await (const next of states) setState(next);
      } catch (failure) {
        setError(failure);
      }
    })();
    return () => void states.return?.();
  }, [run]);
  const result = state.result as Record<string, unknown> | null;
  return (
    <li className="run" data-run={state.id} data-task={state.task_name} data-state={state.state}>
      <strong>{state.task_name}</strong> <span className="state">{state.state}</span>
      {state.total !== null && (
        <progress value={state.current ?? 0} max={state.total}>{state.current} of {state.total}</progress>
      )}
      {state.message && <span className="message">{state.message}</span>}
      {state.state === 'SUCCESS' && (
        typeof result?.url === 'string'
          ? <a className="result" href={result.url}>Download ({String(result.rows)} rows)</a>
          : <code className="result">{JSON.stringify(result)}</code>
      )}
      {state.error && <span className="errornote">{state.error}</span>}
      {error !== null && <span className="errornote" role="alert">{describe(error)}</span>}
    </li>
  );
}

export function Tasks() {
  const [runs, setRuns] = useState<TaskRunHandle[]>([]);
  const [userId, setUserId] = useState('1');
  const [template, setTemplate] = useState<string>('welcome');
  const started = (run: TaskRunHandle | undefined) => run && setRuns((before) => [run, ...before]);
  const exporting = useMutation(() => exportArticles.delay());
  const emailing = useMutation(() => sendEmail.delay(Number(userId), template));
  const email = (event: FormEvent) => {
    event.preventDefault();
    void emailing.run().then(started);
  };
  return (
    <>
      <h2>Tasks</h2>
      <div id="tasks">
        <p>
          <button type="button" id="start-export" disabled={exporting.pending}
            onClick={() => void exporting.run().then(started)}>Export published articles (CSV)</button>
          {exporting.error !== null && <span className="errornote" role="alert">{describe(exporting.error)}</span>}
        </p>
        <form id="send-email" onSubmit={email}>
          <label>User id <input name="user_id" type="number" min="1" value={userId}
            onChange={(e) => setUserId(e.target.value)} /></label>{' '}
          <label>Email <select name="template" value={template} onChange={(e) => setTemplate(e.target.value)}>
            {TEMPLATES.map((name) => <option key={name} value={name}>{name}</option>)}
          </select></label>{' '}
          <button type="submit" disabled={emailing.pending}>Send</button>
          {emailing.error !== null && <span className="errornote" role="alert">{describe(emailing.error)}</span>}
        </form>
        <ol id="runs">
          {runs.map((run) => <Run key={run.id} run={run} />)}
        </ol>
      </div>
    </>
  );
}
