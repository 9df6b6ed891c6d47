/**
 * The origin's gateway: a small Node HTTP server that serves /api/users and
 * /api/articles by calling Django through the generated client, plus a
 * Server-Sent Events stream of live article changes; /api/legacy/articles/:id,
 * which still calls the project's legacy Django view (myproject.views.article_detail)
 * through its typed URL function and the gateway's token; and two Celery tasks:
 * `POST /api/exports` streams an export's progress (SSE) up to its download URL,
 * `POST /api/users/<id>/welcome` sends the welcome email and answers when it is sent.
 *
 *   npm run build && DJANGO_GRAPHQL_URL=http://127.0.0.1:8000/graphql \
 *     GATEWAY_USER=viewer GATEWAY_PASSWORD=demo-password node dist/examples/api-gateway.js
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { Article, User } from '../src/generated/models.js';
import { tasks } from '../src/generated/tasks.js';
import { urls } from '../src/generated/urls.js';
import {
  Avg, Count, createClient, DoesNotExist, GraphQLRequestError, LookupError, Max, TaskFailed, tokenAuth, type Client,
} from '../src/index.js';

const USER_FIELDS = ['id', 'username', 'email', 'is_active', 'created_at'] as const;
const ARTICLE_FIELDS = ['id', 'title', 'author_id', 'published', 'created_at'] as const;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** `?limit=` and `?offset=` as numbers, bounded so one request stays one page. */
function page(query: URLSearchParams): { limit: number; offset: number } {
  const limit = Math.min(Math.max(Number(query.get('limit') ?? 20) || 20, 1), 100);
  const offset = Math.max(Number(query.get('offset') ?? 0) || 0, 0);
  return { limit, offset };
}

async function users(client: Client, query: URLSearchParams, id: string | undefined): Promise<unknown> {
  const objects = User.objects.using(client);
  if (id) {
    const user = await objects.get({ pk: id });
    return { ...user, articles: await user.article_set.count() };
  }
  const { limit, offset } = page(query);
  let qs = objects.values(...USER_FIELDS).order_by('username');
  if (query.has('active')) qs = qs.filter({ is_active: query.get('active') === 'true' });
  if (query.has('search')) qs = qs.filter({ username__icontains: query.get('search')! });
  return { count: await qs.count(), results: await qs.offset(offset).limit(limit) };
}

/** `GET /api/articles/stats`: a dashboard of aggregates, one query on the server. */
function stats(client: Client): Promise<unknown> {
  return Article.objects.using(client).published().aggregate({
    articles: Count(), authors: Count('author_id', { distinct: true }),
    average_title: Avg('title_length'), longest_title: Max('title_length'), latest: Max('created_at'),
  });
}

async function articles(client: Client, query: URLSearchParams, id: string | undefined): Promise<unknown> {
  const objects = Article.objects.using(client);
  if (id === 'stats') return stats(client);
  if (id) {
    const article = await objects.get({ pk: id });
    return { ...article, tags: (await article.tags.values('name')).map((t) => t.name) };
  }
  const { limit, offset } = page(query);
  let qs = objects.filter({ published: true }).values(...ARTICLE_FIELDS).order_by('-created_at', 'id');
  if (query.has('search')) qs = qs.filter({ title__icontains: query.get('search')! });
  if (query.has('author')) qs = qs.filter({ author__username: query.get('author')! });
  if (query.has('year')) qs = qs.filter({ created_at__year: Number(query.get('year')) });
  return { count: await qs.count(), results: await qs.offset(offset).limit(limit) };
}

/** `GET /api/articles/changes`: published article changes as Server-Sent Events. */
function changes(client: Client, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const subscription = Article.objects.using(client).filter({ published: true }).values(...ARTICLE_FIELDS).subscribe({
    onEvent: (event) => res.write(`event: ${event.op}\ndata: ${JSON.stringify(event)}\n\n`),
    onError: (error) => res.end(`event: error\ndata: ${JSON.stringify(String(error))}\n\n`),
  });
  req.on('close', () => subscription.unsubscribe());
}

/** `GET /api/legacy/articles/:id`: the legacy Django view, answered as it answers. */
async function legacyArticle(client: Client, id: string | undefined, res: ServerResponse): Promise<void> {
  const pk = Number(id);
  if (!Number.isInteger(pk) || pk < 0) return send(res, 400, { error: 'id must be a number' });
  const response = await client.fetch(urls.article_detail({ pk }));
  send(res, response.status, await response.json().catch(() => ({ error: `HTTP ${response.status}` })));
}

/** `POST /api/exports`: the export task's states as Server-Sent Events, ending with its result. */
async function exportArticles(client: Client, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const run = await tasks.export_published_articles.using(client).delay();
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const progress = run.progress();
  req.on('close', () => void progress.return?.());
  for await (const state of progress) {
    const { id, state: name, current, total, message, result, error } = state;
    res.write(`event: ${name}\ndata: ${JSON.stringify({ id, current, total, message, result, error })}\n\n`);
  }
  res.end();
}

/** `POST /api/users/<id>/welcome`: send the welcome email through the worker. */
async function welcome(client: Client, id: string): Promise<unknown> {
  const run = await tasks.send_welcome_email.using(client).delay(Number(id), 'welcome');
  return { run: run.id, ...(await run.result() as object) };
}

function failed(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.end(`event: error\ndata: ${JSON.stringify(String(error))}\n\n`);
    return;
  }
  if (error instanceof DoesNotExist) return send(res, 404, { error: error.message });
  if (error instanceof LookupError) return send(res, 400, { error: error.message });
  if (error instanceof TaskFailed) return send(res, 502, { error: error.message, state: error.state });
  if (error instanceof GraphQLRequestError && error.code === 'BAD_USER_INPUT') return send(res, 400, { error: error.message });
  if (error instanceof GraphQLRequestError && error.code === 'FORBIDDEN') return send(res, 403, { error: error.message });
  send(res, 502, { error: error instanceof Error ? error.message : String(error) });
}

export function createGateway(client: Client): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const [, api, resource, id, action] = url.pathname.split('/');
    if (req.method === 'POST' && api === 'api') {
      if (resource === 'exports' && !id) return void exportArticles(client, req, res).catch((e: unknown) => failed(res, e));
      if (resource === 'users' && id && action === 'welcome') {
        return void welcome(client, id).then((body) => send(res, 200, body), (e: unknown) => failed(res, e));
      }
    }
    if (req.method !== 'GET' || api !== 'api') return send(res, 404, { error: 'not found' });
    if (resource === 'articles' && id === 'changes') return changes(client, req, res);
    if (resource === 'legacy' && id === 'articles') {
      legacyArticle(client, url.pathname.split('/')[4], res).catch((error: unknown) => send(res, 502, { error: String(error) }));
      return;
    }
    const handler = resource === 'users' ? users : resource === 'articles' ? articles : null;
    if (!handler) return send(res, 404, { error: 'not found' });
    handler(client, url.searchParams, id).then((body) => send(res, 200, body), (error: unknown) => failed(res, error));
  });
}

async function main(): Promise<void> {
  const client = createClient({ url: process.env.DJANGO_GRAPHQL_URL ?? 'http://127.0.0.1:8000/graphql', WebSocket });
  if (process.env.GATEWAY_USER) {
    await tokenAuth({ username: process.env.GATEWAY_USER, password: process.env.GATEWAY_PASSWORD ?? '' }, client);
  }
  const port = Number(process.env.PORT ?? 3000);
  createGateway(client).listen(port, () => console.log(`gateway on http://127.0.0.1:${port}/api/articles`));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
