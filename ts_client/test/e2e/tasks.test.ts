/** Celery tasks from TypeScript, run by a real worker process on the run's broker. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../examples/api-gateway.js';
import { TaskRun, User } from '../../src/generated/models.js';
import { tasks } from '../../src/generated/tasks.js';
import { GraphQLRequestError, TaskFailed, type Client, type TaskRunState } from '../../src/index.js';
import { clients } from './helpers.js';
import { djangoShell, startWorker, type Worker } from './server.js';

let worker: Worker;
beforeAll(async () => {
  worker = await startWorker('ts-tasks');
});
afterAll(() => worker?.stop());
const users = clients({ editor: 'editor', viewer: 'viewer' });

const ORDER = ['PENDING', 'STARTED', 'PROGRESS', 'SUCCESS'];

describe('tasks from TypeScript', () => {
  it('a long task reports progress live, in order, then its result', async () => {
    const run = await tasks.export_published_articles.using(users.editor).delay(20);
    expect(run.state).toBe('PENDING');
    const seen: TaskRunState[] = [];
    for await (const state of run.progress()) seen.push(state);
    const states = seen.map((s) => s.state);
    expect(states.at(-1)).toBe('SUCCESS');
    // With Redis each state is pushed as it commits; embedded (in-memory layer), a worker's
    // writes reach the server at its outbox poll, and states between polls arrive as one.
    if (process.env.REDIS_URL) expect(states).toContain('PROGRESS');
    // Never backwards: each state at or after the one before it.
    const ranks = states.map((s) => ORDER.indexOf(s));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!))).toBe(true);
    const counts = seen.filter((s) => s.state === 'PROGRESS').map((s) => s.current!);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const result = (await run.result()) as { url: string; rows: number };
    expect(result.url).toMatch(/^\/exports\/articles-.*\.csv$/);
    const published = await djangoShell(
      'from myproject.models import Article; print(Article.objects.filter(published=True).count())');
    expect(result.rows).toBe(Number(published.trim().split('\n').pop()));
    const last = seen.at(-1)!;
    expect(last.current).toBe(result.rows);
    expect(last.total).toBe(result.rows);
    // The download is the CSV the worker wrote.
    const csv = await fetch(new URL(result.url, users.editor.url).toString()).then((r) => r.text());
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(result.rows + 1);
  });

  it('a failed task rejects result() with its message, never a traceback', async () => {
    const someone = (await User.objects.using(users.editor).first())!;
    const run = await tasks.send_welcome_email.using(users.editor).delay(Number(someone.id), 'no-such-template');
    const error = await run.result().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailed);
    expect((error as TaskFailed).message).toBe(
      "ValueError: Unknown template 'no-such-template'; use one of welcome, digest.");
    expect(JSON.stringify((error as TaskFailed).run)).not.toMatch(/Traceback|File "/);
  });

  it('a task with its default arguments succeeds', async () => {
    const someone = (await User.objects.using(users.editor).first())!;
    const run = await tasks.send_welcome_email.using(users.editor).delay(Number(someone.id));
    expect(run.last.arguments).toEqual({ user_id: Number(someone.id), template: 'welcome' });
    expect(await run.result()).toEqual({ to: someone.email, template: 'welcome', sent: 1 });
  });

  it('a revoked run ends REVOKED and result() rejects', async () => {
    const run = await tasks.export_published_articles.using(users.editor).delay();
    await run.revoke();
    expect(run.state).toBe('REVOKED');
    const error = await run.result().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailed);
    expect((error as TaskFailed).state).toBe('REVOKED');
    expect((await TaskRun.objects.using(users.editor).get({ id: run.id })).state).toBe('REVOKED');
  });

  it('who may not start a task gets FORBIDDEN, and no one else sees a run', async () => {
    const someone = (await User.objects.using(users.viewer).first())!;
    const refused = await tasks.send_welcome_email.using(users.viewer).delay(Number(someone.id))
      .then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(GraphQLRequestError);
    expect((refused as GraphQLRequestError).code).toBe('FORBIDDEN');
    const mine = await tasks.export_published_articles.using(users.editor).delay();
    await mine.result();
    const listed = await TaskRun.objects.using(users.editor).filter({ task_name: 'export_published_articles' });
    expect(listed.map((r) => r.id)).toContain(mine.id);
    const theirs = await TaskRun.objects.using(users.viewer).filter({ id: mine.id });
    expect(theirs).toEqual([]);
  });
});

describe('the gateway example starts tasks', () => {
  async function gateway(c: Client): Promise<{ base: string; close: () => Promise<void> }> {
    const server = createGateway(c);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { base, close: () => new Promise<void>((ok) => server.close(() => ok())) };
  }

  it('POST /api/exports streams the progress up to the download URL', async () => {
    const { base, close } = await gateway(users.editor);
    const text = await fetch(`${base}/api/exports`, { method: 'POST' }).then((r) => r.text());
    await close();
    const events = text.split('\n\n').filter(Boolean).map((block) => {
      const [event, data] = block.split('\n');
      return { event: event!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
    });
    expect(events.at(-1)!.event).toBe('SUCCESS');
    expect(events.at(-1)!.data.result.url).toMatch(/^\/exports\//);
    // What arrives between depends on delivery (states committed faster than they are
    // sent arrive as one); each is one of the run's, in order.
    const ranks = events.map((e) => ORDER.indexOf(e.event));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!))).toBe(true);
  });

  it('POST /api/users/<id>/welcome sends the email, or answers 403 for who may not', async () => {
    const someone = (await User.objects.using(users.editor).first())!;
    const editors = await gateway(users.editor);
    const sent = await fetch(`${editors.base}/api/users/${someone.id}/welcome`, { method: 'POST' });
    await editors.close();
    expect(sent.status).toBe(200);
    expect(await sent.json()).toMatchObject({ to: someone.email, template: 'welcome', sent: 1 });
    const viewers = await gateway(users.viewer);
    const refused = await fetch(`${viewers.base}/api/users/${someone.id}/welcome`, { method: 'POST' });
    await viewers.close();
    expect(refused.status).toBe(403);
  });
});
