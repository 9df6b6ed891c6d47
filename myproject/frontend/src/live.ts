/**
 * /live/: the latest published articles, kept live. What a front end written with
 * ts_client looks like: one query for the rows, one subscription for their changes.
 *
 * - The subscription starts first and the rows are read once it is READY, so no
 *   change can fall between the read and the first event.
 * - CREATED and UPDATED put a row in place, DELETED and LEFT (unpublished, so out
 *   of the filter) take it out; RESYNC (the server could not replay a long absence)
 *   reads the rows again.
 * - After a dropped socket, ts_client reconnects and passes its last cursor: the
 *   server replays what happened meanwhile, so the list never silently goes stale.
 */
import { createClient, type ChangeEvent, type LiveStatus } from '../../../ts_client/src/index.js';
import { Article } from '../../../ts_client/src/generated/models.js';

const SHOWN = 10;
// A few more rows than shown, so a removal is filled without reading again.
const KEPT = 3 * SHOWN;
const FIELDS = ['id', 'title', 'created_at'] as const;
type Row = { id: string; title: string; created_at: string };

const client = createClient({
  url: new URL('/graphql', location.href).href,
  // A demo page: retry often (the default backs off up to 30 s).
  live: { minDelay: 250, maxDelay: 2000 },
});
const published = Article.objects.using(client).filter({ published: true });

const rows = new Map<string, Row>();
let loaded = false;
const early: ChangeEvent<Row>[] = [];

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

function newestFirst(a: Row, b: Row): number {
  return Date.parse(b.created_at) - Date.parse(a.created_at) || Number(b.id) - Number(a.id);
}

function render(): void {
  const list = element<HTMLUListElement>('articles');
  const newest = [...rows.values()].sort(newestFirst);
  // Keep the map bounded: what falls past KEPT would need a fresh read anyway.
  for (const row of newest.slice(KEPT)) rows.delete(row.id);
  list.replaceChildren(
    ...newest.slice(0, SHOWN).map((row) => {
      const item = document.createElement('li');
      item.dataset.pk = row.id;
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = row.title;
      const when = document.createElement('time');
      when.dateTime = row.created_at;
      when.textContent = new Date(row.created_at).toLocaleString();
      item.append(title, ' ', when);
      return item;
    }),
  );
}

function showStatus(status: LiveStatus): void {
  const label = element('status');
  label.dataset.status = status;
  label.textContent = { connecting: 'Connecting…', ready: 'Live', reconnecting: 'Reconnecting…', closed: 'Closed', error: 'Error' }[status];
}

function logEvent(event: ChangeEvent<Row>): void {
  const log = element<HTMLOListElement>('log');
  const entry = document.createElement('li');
  entry.dataset.op = event.op;
  entry.textContent = `${event.op} #${event.pk}${event.node ? ` “${event.node.title}”` : ''} (cursor ${event.cursor})`;
  log.prepend(entry);
  while (log.children.length > 20) log.lastElementChild?.remove();
}

function apply(event: ChangeEvent<Row>): void {
  if (event.pk === null) return;
  if ((event.op === 'CREATED' || event.op === 'UPDATED') && event.node) rows.set(event.pk, event.node);
  if (event.op === 'DELETED' || event.op === 'LEFT') rows.delete(event.pk);
}

async function load(): Promise<void> {
  const fresh = await published.values(...FIELDS).order_by('-created_at', '-id').limit(KEPT);
  rows.clear();
  for (const row of fresh) rows.set(row.id, row);
  loaded = true;
  for (const event of early.splice(0)) apply(event);
  render();
}

published.values(...FIELDS).subscribe({
  onStatus: showStatus,
  onEvent(event) {
    if (event.op === 'READY' || event.op === 'RESYNC') return;
    logEvent(event);
    if (!loaded) {
      early.push(event); // arrived while the rows are being read: applied after them
      return;
    }
    apply(event);
    render();
  },
  onResync: load,
}).ready.then(load, (error: unknown) => {
  element('status').textContent = `Error: ${String(error)}`;
});
