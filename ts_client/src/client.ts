/**
 * One connection to a Django server: GraphQL over HTTP (fetch) plus the shared
 * live socket. Auth state lives here: a bearer token, or Django's session cookie.
 * Browsers keep cookies themselves; Node's fetch has no cookie jar, so the client
 * keeps a tiny one (sessionid, csrftoken) and sends it on HTTP and the WS handshake.
 */
import { GraphQLRequestError, type GraphQLResponse } from './protocol.js';
import { Live, type LiveOptions, type WebSocketLike } from './live.js';

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:8000/graphql`. */
  url: string;
  /** The WebSocket endpoint; defaults to `url` with ws:// or wss://. */
  wsUrl?: string;
  /** A bearer token (token mode); otherwise the session cookie is used. */
  token?: string | null;
  /** Extra headers for every HTTP request. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** A WebSocket class: `ws` on Node 20, which has no global WebSocket. */
  WebSocket?: WebSocketLike;
  /** Rows per request when a queryset has no limit (the server's max page size). */
  pageSize?: number;
  /**
   * The server's MAX_COMPLEXITY (default 100,000): pages of rows with prefetched
   * relations are sized to stay under it.
   */
  maxComplexity?: number;
  live?: LiveOptions;
}

const inBrowser = typeof document !== 'undefined';
const CURSOR_HEADER = 'X-Consistency-Cursor';

export class Client {
  readonly url: string;
  readonly wsUrl: string;
  readonly pageSize: number;
  readonly maxComplexity: number;
  readonly live: Live;
  private token: string | null;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  /** Node only: cookies the server set (name -> value). */
  private readonly cookies = new Map<string, string>();
  private readonly identityListeners = new Set<() => void>();
  /** The stream positions this client's writes reached (X-Consistency-Cursor): sent
   * back so any worker answers at least that fresh (read-your-writes). */
  private readonly written = new Map<string, number>();

  constructor(options: ClientOptions) {
    this.url = options.url;
    this.wsUrl = options.wsUrl ?? options.url.replace(/^http/, 'ws');
    this.token = options.token ?? null;
    this.headers = options.headers ?? {};
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.pageSize = options.pageSize ?? 1000;
    this.maxComplexity = options.maxComplexity ?? 100_000;
    this.live = new Live(this, options.WebSocket, options.live);
  }

  getToken(): string | null {
    return this.token;
  }

  /** Switch to (or out of) token mode; open sockets restart with the new identity. */
  setToken(token: string | null): void {
    this.token = token;
    this.identityChanged();
  }

  /** The user changed (login, logout, a new token): the socket reconnects as the new one. */
  identityChanged(): void {
    this.live.restart();
    for (const listener of [...this.identityListeners]) listener();
  }

  /** `listener` after every identity change (live results read again); returns the unsubscribe. */
  onIdentityChange(listener: () => void): () => void {
    this.identityListeners.add(listener);
    return () => this.identityListeners.delete(listener);
  }

  /** Forget the session cookie (after logout); `setToken` or `live.restart()` reconnects. */
  clearSession(): void {
    this.cookies.delete('sessionid');
  }

  /** Headers for the WebSocket handshake (Node): the session cookie rides along. */
  handshakeHeaders(): Record<string, string> {
    const cookie = this.cookieHeader();
    return cookie ? { Cookie: cookie } : {};
  }

  /**
   * Run one operation over HTTP; a response with `errors` rejects with GraphQLRequestError.
   * Variables holding a `Blob` or `File` (browser, Node 20) are sent as a GraphQL
   * multipart request (the spec Apollo and urql speak), each file where it was.
   */
  async request<D = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<D> {
    const mutation = /^\s*mutation\b/.test(query);
    const files = new Map<Blob, string[]>();
    const plain = extractFiles(variables, 'variables', files) as Record<string, unknown>;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...this.headers,
    };
    let body: string | FormData;
    if (files.size === 0) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify({ query, variables });
    } else {
      // fetch sets multipart/form-data with its boundary itself.
      const form = new FormData();
      const entries = [...files];
      form.append('operations', JSON.stringify({ query, variables: plain }));
      form.append('map', JSON.stringify(Object.fromEntries(entries.map(([, paths], i) => [String(i), paths]))));
      entries.forEach(([file], i) => form.append(String(i), file, (file as Partial<File>).name ?? 'blob'));
      body = form;
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    else if (mutation) headers['X-CSRFToken'] = await this.csrfToken();
    const cookie = this.cookieHeader();
    if (cookie) headers.Cookie = cookie;
    if (this.written.size) headers[CURSOR_HEADER] = [...this.written].map(([m, s]) => `${m}:${s}`).join(',');
    return this.send<D>(body, headers);
  }

  private async send<D>(requestBody: string | FormData, headers: Record<string, string>): Promise<D> {
    const response = await this.fetchImpl(this.url, {
      method: 'POST',
      headers,
      body: requestBody,
      credentials: 'include',
    });
    this.storeCookies(response);
    this.storeCursor(response.headers.get(CURSOR_HEADER));
    let body: GraphQLResponse<D>;
    try {
      body = (await response.json()) as GraphQLResponse<D>;
    } catch {
      throw new GraphQLRequestError([{ message: `HTTP ${response.status} without a GraphQL body` }], response.status);
    }
    if (body.errors?.length || !response.ok) throw new GraphQLRequestError(body.errors ?? [], response.status);
    return body.data as D;
  }

  /**
   * Fetch any Django view of the server (`client.fetch(urls.article_detail({ pk: 1 }))`)
   * as the user this client is: its bearer token (the server's BearerTokenMiddleware
   * accepts it), or its session cookie plus the CSRF token on unsafe methods.
   * Resolves to the plain Response, whatever its status.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.url);
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.headers)) if (!headers.has(name)) headers.set(name, value);
    const method = (init.method ?? 'GET').toUpperCase();
    if (this.token) headers.set('Authorization', `Bearer ${this.token}`);
    else if (!['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(method)) headers.set('X-CSRFToken', await this.csrfToken());
    const cookie = this.cookieHeader();
    if (cookie) headers.set('Cookie', cookie);
    const response = await this.fetchImpl(url, { credentials: 'include', ...init, method, headers });
    this.storeCookies(response);
    return response;
  }

  /** Django's CSRF token: from the cookie, or asked for once (`csrf_token` also sets the cookie). */
  private async csrfToken(): Promise<string> {
    const known = this.cookie('csrftoken');
    if (known) return known;
    const data = await this.request<{ csrf_token: string }>('query { csrf_token }');
    return this.cookie('csrftoken') ?? data.csrf_token;
  }

  private cookie(name: string): string | undefined {
    if (inBrowser) {
      const match = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
      return match?.[1] ? decodeURIComponent(match[1]) : undefined;
    }
    return this.cookies.get(name);
  }

  private cookieHeader(): string {
    if (inBrowser) return '';
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private storeCursor(cursor: string | null): void {
    for (const part of cursor?.split(',') ?? []) {
      const at = part.lastIndexOf(':');
      const seq = Number(part.slice(at + 1));
      const model = part.slice(0, at).trim();
      if (at > 0 && Number.isSafeInteger(seq) && seq > (this.written.get(model) ?? 0)) this.written.set(model, seq);
    }
  }

  private storeCookies(response: Response): void {
    if (inBrowser) return;
    for (const line of response.headers.getSetCookie?.() ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // Django deletes a cookie by setting it empty with Max-Age=0 (or a past Expires).
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '' || value === '""';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Close the live socket (pending HTTP requests finish on their own). */
  async close(): Promise<void> {
    await this.live.close();
  }
}

/**
 * `value` with every Blob replaced by null, recording where each was
 * (`variables.data.cover`), as the GraphQL multipart request spec maps them.
 */
function extractFiles(value: unknown, path: string, files: Map<Blob, string[]>): unknown {
  if (typeof Blob !== 'undefined' && value instanceof Blob) {
    const paths = files.get(value) ?? [];
    paths.push(path);
    files.set(value, paths);
    return null;
  }
  if (Array.isArray(value)) return value.map((item, i) => extractFiles(item, `${path}.${i}`, files));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, extractFiles(v, `${path}.${k}`, files)]));
  }
  return value;
}

export function createClient(options: ClientOptions): Client {
  return new Client(options);
}

let defaultClient: Client | null = null;

/** Create a client and make it the one `Model.objects` and `authenticate()` use by default. */
export function configure(options: ClientOptions | Client): Client {
  defaultClient = options instanceof Client ? options : new Client(options);
  return defaultClient;
}

export function getDefaultClient(): Client {
  if (defaultClient === null) {
    throw new Error('No default client: call configure({ url }) first, or use Model.objects.using(client).');
  }
  return defaultClient;
}
