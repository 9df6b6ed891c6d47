/**
 * Read-your-writes: the client keeps the highest X-Consistency-Cursor positions it was
 * given and sends them back with every later request.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client.js';

describe('consistency cursor', () => {
  it('sends back the highest position per model it was given', async () => {
    const sent: (string | undefined)[] = [];
    const cursors = ['myproject.article:7', null, 'myproject.article:5,myproject.user:3', null];
    const fetch = (async (_url: string, init: RequestInit) => {
      sent.push((init.headers as Record<string, string>)['X-Consistency-Cursor']);
      const cursor = cursors.shift();
      return new Response(JSON.stringify({ data: { ok: true } }), {
        headers: cursor ? { 'X-Consistency-Cursor': cursor } : {},
      });
    }) as unknown as typeof globalThis.fetch;
    const client = new Client({ url: 'http://server/graphql', fetch, token: 't' });
    for (let i = 0; i < 4; i++) await client.request('mutation { ok }');
    expect(sent).toEqual([
      undefined,
      'myproject.article:7',
      'myproject.article:7',
      'myproject.article:7,myproject.user:3',
    ]);
  });
});
