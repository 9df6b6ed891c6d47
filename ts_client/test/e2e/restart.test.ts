/**
 * A server restart in the middle of a subscription: the client reconnects with its
 * last cursor, the server replays what was written while it was down, and nothing
 * is lost or delivered twice. This test owns its daphne (same database as the run)
 * and watches comments, which no other test writes, so the replay is exactly ours.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Comment } from '../../src/generated/models.js';
import type { ChangeEvent, LiveStatus } from '../../src/index.js';
import { clientAs, pythonSession, unique, until } from './helpers.js';
import { startDaphne, type Daphne } from './server.js';

let daphne: Daphne;
beforeAll(async () => {
  daphne = await startDaphne();
});
afterAll(() => daphne.stop());
const py = pythonSession(`from myproject.models import Article, Comment, User
u = User.objects.order_by("id").first()
a = Article.objects.order_by("id").first()`);

it('resumes after a restart with no lost and no duplicated event', async () => {
  const editor = await clientAs('editor', { url: daphne.url });
  const prefix = unique('restart');
  const events: ChangeEvent<Comment>[] = [];
  const statuses: LiveStatus[] = [];
  const create = (n: number) => py.run(`Comment.objects.create(article=a, author=u, body="${prefix}-${n}")`);
  const created = () => events.filter((e) => e.op === 'CREATED').map((e) => e.node!.body);
  const sub = Comment.objects.using(editor).filter({ body__startswith: prefix }).subscribe({
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
  });
  await sub.ready;
  await create(1);
  await until(() => created().length === 1, 20_000, 'event 1');
  const port = daphne.port;
  const pidBefore = daphne.pid;

  await daphne.stop();
  await until(() => sub.status === 'reconnecting', 20_000, 'the client to notice');
  // Written while no server runs: only the outbox knows about these.
  await create(2);
  await create(3);
  daphne = await startDaphne(port);
  expect(daphne.pid).not.toBe(pidBefore);

  await until(() => created().length === 3 && sub.status === 'ready', 30_000, 'the replay')
    .catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify({ events, statuses })}`);
    });
  await create(4);
  await until(() => created().length === 4, 20_000, 'event 4');

  expect(created()).toEqual([1, 2, 3, 4].map((n) => `${prefix}-${n}`));
  // READY, event 1, then after the resume: the replayed 2 and 3, READY, then 4.
  expect(events.map((e) => e.op)).toEqual(['READY', 'CREATED', 'CREATED', 'CREATED', 'READY', 'CREATED']);
  const cursors = events.filter((e) => e.op === 'CREATED').map((e) => BigInt(e.cursor!));
  expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1]!)).toBe(true);
  expect(statuses).toEqual(['connecting', 'ready', 'reconnecting', 'ready']);
  sub.unsubscribe();
  await editor.close();
});
