/**
 * Live subscriptions fed by saves in ANOTHER process (`manage.py shell -c`), the way
 * a worker or the admin would write: events travel through the outbox and the hub.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Article, User } from '../../src/generated/models.js';
import {
  authenticate, logout, refreshToken, type ChangeEvent, type Client, type LiveStatus,
} from '../../src/index.js';
import { PASSWORD, client, clientAs, pythonSession, unique, until } from './helpers.js';

/** A WebSocket class that counts the sockets a client opens. */
function countingSocket(): { WebSocket: typeof WebSocket; opened: () => number } {
  let opened = 0;
  class Counting extends WebSocket {
    constructor(address: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
      super(address, protocols, options);
      opened += 1;
    }
  }
  return { WebSocket: Counting as typeof WebSocket, opened: () => opened };
}

/** A Django process of its own (like a worker): writes here reach subscribers via the outbox. */
const py = pythonSession('from myproject.models import Article, User\nu = User.objects.order_by("id").first()');

type Row = Article;
function recorder() {
  const events: ChangeEvent<Row>[] = [];
  const statuses: LiveStatus[] = [];
  const errors: unknown[] = [];
  return {
    events, statuses, errors,
    handlers: {
      onEvent: (e: ChangeEvent<Row>) => events.push(e),
      onStatus: (s: LiveStatus) => statuses.push(s),
      onError: (e: unknown) => errors.push(e),
    },
    ops: () => events.map((e) => e.op),
    /** Only the events of these rows (markers included): other tests' writes may add noise. */
    of: (pks: unknown[]) => events.filter((e) => e.pk === null || pks.map(String).includes(e.pk)),
    titles: (op: string) => events.filter((e) => e.op === op).map((e) => e.node?.title),
  };
}

describe('subscriptions', () => {
  it('creates, updates and deletes made by Python arrive in order, with cursors', async () => {
    const editor = await clientAs('editor');
    const prefix = unique('live');
    const rec = recorder();
    const sub = Article.objects.using(editor).filter({ title__startswith: prefix }).subscribe(rec.handlers);
    await sub.ready;
    expect(rec.ops()).toEqual(['READY']);
    // Each write waits for its event: the server renders a node when it delivers the
    // event, so a row created and deleted before delivery is reported as gone, not created.
    const pks: number[] = [];
    const mine = () => rec.of(pks);
    pks.push(await py.run<number>(`a = Article.objects.create(title="${prefix}-1", content="first", author=u); result = a.pk`));
    await until(() => mine().length === 2, 20_000, 'CREATED');
    await py.run('a.content = "second"; a.save(update_fields=["content"])');
    await until(() => mine().length === 3, 20_000, 'UPDATED');
    await py.run(`a.title = "moved-${prefix}"; a.save()`);
    await until(() => mine().length === 4, 20_000, 'LEFT');
    pks.push(await py.run<number>(`b = Article.objects.create(title="${prefix}-2", content="x", author=u); result = b.pk`));
    await until(() => mine().length === 5, 20_000, 'second CREATED');
    await py.run('b.delete()');
    await until(() => mine().length === 6, 20_000, 'DELETED');
    const [pk, pk2] = pks.map(String);
    expect(mine().map((e) => e.op)).toEqual(['READY', 'CREATED', 'UPDATED', 'LEFT', 'CREATED', 'DELETED']);
    const [, created, updated, left, , deleted] = mine();
    expect(created!.pk).toBe(pk);
    expect(created!.node).toMatchObject({ id: pk, title: `${prefix}-1`, content: 'first', published: false });
    expect(await created!.node!.tags.count()).toBe(0); // event nodes are rows with relation managers
    expect(updated!.node?.content).toBe('second');
    expect(updated!.changed_fields).toEqual(['content']);
    expect(left!.pk).toBe(pk);
    expect(deleted!.pk).toBe(pk2);
    expect(rec.titles('CREATED')).toEqual([`${prefix}-1`, `${prefix}-2`]);
    const cursors = rec.events.slice(1).map((e) => BigInt(e.cursor!));
    expect([...cursors].sort((x, y) => (x < y ? -1 : 1))).toEqual(cursors);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(sub.cursor).toBe(rec.events.at(-1)!.cursor);
    expect(rec.errors).toEqual([]);
    sub.unsubscribe();
    expect(sub.status).toBe('closed');
    await editor.close();
  });

  it('async iterator form, and one shared socket for many subscriptions', async () => {
    const socket = countingSocket();
    const editor = await clientAs('editor', { WebSocket: socket.WebSocket });
    const prefix = unique('iter');
    const other = recorder();
    const second = User.objects.using(editor).filter({ username: prefix }).subscribe({});
    const first = Article.objects.using(editor).filter({ title__startswith: prefix }).values('id', 'title')
      .subscribe({ onEvent: (e) => other.events.push(e as ChangeEvent<Row>) });
    const iterator = Article.objects.using(editor).filter({ title__startswith: prefix }).changes();
    await Promise.all([first.ready, second.ready, iterator.subscription.ready]);
    expect(socket.opened()).toBe(1);
    await py.run(`a = Article.objects.create(title="${prefix}-a", content="c", author=u)`);
    const seen: string[] = [];
    for await (const event of iterator) {
      if (event.op === 'LEFT') continue; // other tests' many-to-many writes (see the report)
      seen.push(`${event.op}:${event.node?.title ?? ''}`);
      if (event.op === 'CREATED') await py.run('a.delete()');
      if (event.op === 'DELETED') break;
    }
    expect(seen).toEqual(['READY:', `CREATED:${prefix}-a`, 'DELETED:']);
    expect(iterator.subscription.status).toBe('closed');
    await until(() => other.events.some((e) => e.op === 'DELETED'), 20_000, 'DELETED on values()');
    const createdNode = other.events.find((e) => e.op === 'CREATED')!.node!;
    expect(Object.keys(createdNode).sort()).toEqual(['id', 'title']);
    expect(socket.opened()).toBe(1);
    first.unsubscribe();
    second.unsubscribe();
    await editor.close();
  });

  it('RESYNC calls the refetch hook, then events continue', async () => {
    // More changes than the server replays (MAX_REPLAY=20 in e2e_settings) after cursor 0.
    await py.run(`x = Article.objects.create(title="resync-filler", content="0", author=u)
for i in range(25):
    x.content = str(i); x.save()`);
    const editor = await clientAs('editor');
    const prefix = unique('resync');
    const rec = recorder();
    let refetches = 0;
    const sub = Article.objects.using(editor).filter({ title__startswith: prefix }).subscribe({
      ...rec.handlers,
      after: '0',
      onResync: () => {
        refetches += 1;
      },
    });
    await until(() => rec.ops().includes('RESYNC'), 20_000, 'RESYNC');
    await until(() => refetches === 1, 5_000, 'refetch hook');
    await py.run(`Article.objects.create(title="${prefix}-x", content="c", author=u)`);
    await until(() => rec.ops().includes('CREATED'), 20_000, 'CREATED after RESYNC');
    expect(rec.ops().filter((op) => op !== 'LEFT')).toEqual(['RESYNC', 'CREATED']);
    expect(rec.titles('CREATED')).toEqual([`${prefix}-x`]);
    sub.unsubscribe();
    await editor.close();
  });

  it('a subscription the user may not read is refused', async () => {
    const anonymous = client();
    const errors: unknown[] = [];
    const sub = User.objects.using(anonymous).subscribe({ onError: (e) => errors.push(e) });
    await expect(sub.ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(sub.status).toBe('error');
    expect(errors).toHaveLength(1);
    await anonymous.close();
  });

  it('RESYNC after a cursor this database never issued, then events continue', async () => {
    const editor = await clientAs('editor');
    const prefix = unique('future');
    const rec = recorder();
    const sub = Article.objects.using(editor).filter({ title__startswith: prefix }).subscribe({
      ...rec.handlers, after: '999999999999',
    });
    await until(() => rec.ops().includes('RESYNC'), 20_000, 'RESYNC');
    await py.run(`Article.objects.create(title="${prefix}-x", content="c", author=u)`);
    await until(() => rec.ops().includes('CREATED'), 20_000, 'CREATED after RESYNC');
    sub.unsubscribe();
    await editor.close();
  });
});

describe('identity changes restart the socket', () => {
  it('login and logout (session): the same subscription sees what the new user may see', async () => {
    const socket = countingSocket();
    const c: Client = client({ WebSocket: socket.WebSocket });
    const prefix = unique('login');
    const rec = recorder();
    const sub = Article.objects.using(c).filter({ title__startswith: prefix }).subscribe(rec.handlers);
    await sub.ready;
    // Anonymous: the draft is invisible; the published sentinel, written after it, arrives.
    await py.run(`Article.objects.create(title="${prefix}-draft1", content="c", author=u)
Article.objects.create(title="${prefix}-public1", content="c", author=u, published=True)`);
    await until(() => rec.titles('CREATED').includes(`${prefix}-public1`), 20_000, 'public1');
    expect(rec.titles('CREATED')).toEqual([`${prefix}-public1`]);

    await authenticate({ username: 'editor', password: PASSWORD }, c);
    await until(() => socket.opened() === 2 && sub.status === 'ready', 20_000, 'restart after login');
    await py.run(`Article.objects.create(title="${prefix}-draft2", content="c", author=u)`);
    await until(() => rec.titles('CREATED').includes(`${prefix}-draft2`), 20_000, 'draft2 as editor');

    await logout(c);
    await until(() => socket.opened() === 3 && sub.status === 'ready', 20_000, 'restart after logout');
    await py.run(`Article.objects.create(title="${prefix}-draft3", content="c", author=u)
Article.objects.create(title="${prefix}-public2", content="c", author=u, published=True)`);
    await until(() => rec.titles('CREATED').includes(`${prefix}-public2`), 20_000, 'public2');
    expect(rec.titles('CREATED')).toEqual([`${prefix}-public1`, `${prefix}-draft2`, `${prefix}-public2`]);
    expect(rec.statuses).toContain('reconnecting');
    expect(rec.errors).toEqual([]);
    sub.unsubscribe();
    await c.close();
  });

  it('token refresh reconnects with the new token and loses nothing', async () => {
    const socket = countingSocket();
    const editor = await clientAs('editor', { WebSocket: socket.WebSocket });
    const prefix = unique('refresh');
    const rec = recorder();
    const sub = Article.objects.using(editor).filter({ title__startswith: prefix }).subscribe(rec.handlers);
    await sub.ready;
    await refreshToken(editor);
    await until(() => socket.opened() === 2 && sub.status === 'ready', 20_000, 'restart after refresh');
    await py.run(`Article.objects.create(title="${prefix}-1", content="c", author=u)`);
    await until(() => rec.titles('CREATED').length === 1, 20_000, 'CREATED');
    expect(rec.ops().filter((op) => op === 'READY')).toHaveLength(2);
    expect(rec.titles('CREATED')).toEqual([`${prefix}-1`]);
    sub.unsubscribe();
    await editor.close();
  });
});
