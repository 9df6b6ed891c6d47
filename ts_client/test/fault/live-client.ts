/**
 * ts_client's own live subscription, for the fault test: `node live-client.cjs URL (bundled by the test with esbuild)`.
 * Subscribes to article changes through Client.live (graphql-ws, resume from the last
 * cursor, backoff) and prints one line per event and per status change.
 */
import WebSocket from 'ws';
import { Client } from '../../src/client.js';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: live-client.cjs URL');
const client = new Client({ url, WebSocket: WebSocket as never, live: { minDelay: 100, maxDelay: 1000 } });
const doc = { query: 'subscription($after: String) { article_changes(after: $after) { op cursor pk } }', variables: {} };
const print = (line: string) => process.stdout.write(`${line}\n`);
client.live.subscribe<unknown>(doc, 'article_changes', {
  onEvent: (event) => print(`event ${event.cursor} ${event.op} ${event.pk}`),
  onStatus: (status) => print(`status ${status}`),
  onError: (error) => print(`error ${JSON.stringify(String(error))}`),
});
process.on('SIGTERM', () => process.exit(0));
