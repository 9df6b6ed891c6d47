// @ts-check
/**
 * What the browser tests share: the cluster run.mjs started, Debian's chromium
 * launched for a closed network, the admin, and a ts_client subscriber in Node.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { createClient, tokenAuth } from 'django-graphql-realtime-client';
import { Article } from 'django-graphql-realtime-client/generated';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const ARTIFACTS = join(root, 'tests', 'artifacts', 'browser');
export const ADMIN = { username: 'admin', password: 'demo-password' };

/** @typedef {{ url: string, pid: number | null, running: boolean }} WorkerInfo */
/** @typedef {{ name: string, balancer: string, workers: WorkerInfo[] }} ClusterInfo */

/** @returns {ClusterInfo} */
export function clusterInfo() {
  const raw = process.env.CLUSTER;
  if (!raw) throw new Error('CLUSTER is not set: run these tests with `npm test` (run.mjs).');
  return JSON.parse(raw);
}

/** `scripts/cluster worker stop|start N` on the cluster of this run. */
export function clusterWorker(/** @type {'stop' | 'start'} */ action, /** @type {number} */ number) {
  const result = spawnSync(join(root, 'scripts', 'cluster'), ['--name', process.env.CLUSTER_NAME ?? '', 'worker', action, String(number)], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`scripts/cluster worker ${action} ${number} failed: ${result.stderr}`);
}

// Debian's chromium on a machine with no internet: without the background
// networking flags it keeps trying to reach Google's hosts.
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const LOCAL = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A fresh browser profile. Every request that is not for this machine is aborted
 * and recorded in `external`, so a test can assert the page needed none.
 */
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  /** @type {string[]} */
  const external = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL.has(url.hostname)) return route.continue();
    external.push(url.href);
    return route.abort('blockedbyclient');
  });
  /** @type {string[]} */
  const consoleErrors = [];
  context.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, external, consoleErrors, close };
}

/** A full-page screenshot kept under tests/artifacts/browser/. */
export async function screenshot(/** @type {import('playwright-core').Page} */ page, /** @type {string} */ name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Log in to the Django admin at `base` (a worker or the balancer). Cookies do not
 * depend on the port, so a session from another worker may already be there:
 * Django then sends the login page straight on to the admin.
 */
export async function adminLogin(/** @type {import('playwright-core').Page} */ page, /** @type {string} */ base) {
  await page.goto(`${base}/admin/login/?next=/admin/`);
  if (page.url() === `${base}/admin/`) return;
  await page.fill('#id_username', ADMIN.username);
  await page.fill('#id_password', ADMIN.password);
  await Promise.all([page.waitForURL(`${base}/admin/`), page.click('input[type=submit]')]);
}

/** Change an Article in the admin form and save it; waits for the admin's "changed" message. */
export async function adminEditArticle(
  /** @type {import('playwright-core').Page} */ page,
  /** @type {string} */ base,
  /** @type {string} */ pk,
  /** @type {{ title?: string, published?: boolean }} */ change,
) {
  await page.goto(`${base}/admin/myproject/article/${pk}/change/`);
  if (change.title !== undefined) await page.fill('#id_title', change.title);
  if (change.published !== undefined) await page.setChecked('#id_published', change.published);
  await Promise.all([page.waitForURL(`${base}/admin/myproject/article/`), page.click('input[name=_save]')]);
  await page.locator('.messagelist .success').waitFor();
}

/**
 * ts_client in Node, logged in as the demo's admin with a bearer token. Its
 * WebSocket class records which worker accepted each connection (the balancer's
 * X-Upstream header on the 101 response).
 */
export async function nodeClient(/** @type {string} */ base) {
  /** @type {string[]} */
  const upstreams = [];
  class RecordingWebSocket extends WebSocket {
    /** @param {string} url @param {string | string[]} [protocols] @param {import('ws').ClientOptions} [options] */
    constructor(url, protocols, options) {
      super(url, protocols, options);
      this.on('upgrade', (response) => upstreams.push(String(response.headers['x-upstream'] ?? '')));
    }
  }
  const client = createClient({ url: `${base}/graphql`, WebSocket: RecordingWebSocket });
  await tokenAuth(ADMIN, client);
  return { client, upstreams, articles: Article.objects.using(client) };
}

/**
 * Collect the events of one subscription; `next(predicate)` resolves with the
 * first event (already received or still to come) that matches.
 * @template T
 */
export class Events {
  constructor() {
    /** @type {T[]} */
    this.seen = [];
    /** @type {{ predicate: (event: T) => boolean, resolve: (event: T) => void }[]} */
    this.waiting = [];
  }

  /** @param {T} event */
  push(event) {
    this.seen.push(event);
    this.waiting = this.waiting.filter((waiter) => {
      if (!waiter.predicate(event)) return true;
      waiter.resolve(event);
      return false;
    });
  }

  /** @param {(event: T) => boolean} predicate @param {number} [timeout] @returns {Promise<T>} */
  next(predicate, timeout = 20_000) {
    const found = this.seen.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeout} ms; seen: ${JSON.stringify(this.seen)}`)), timeout);
      this.waiting.push({ predicate, resolve: (event) => { clearTimeout(timer); resolve(event); } });
    });
  }
}

/** Which worker of the cluster an X-Upstream value names (the last address tried answered). */
export function workerIndex(/** @type {ClusterInfo} */ cluster, /** @type {string} */ upstream) {
  const port = upstream.split(',').pop()?.trim().split(':').pop();
  return cluster.workers.findIndex((worker) => new URL(worker.url).port === port);
}
