/**
 * `npm run measure`: time from a save in a separate Python process to the
 * TypeScript callback, over 50 saves (median, p90). Reported, never asserted.
 * The Python side stamps time.time() just before save(); the callback compares
 * it with Date.now() (same machine, same clock).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { Article } from '../../src/generated/models.js';
import { clientAs, unique, until } from '../e2e/helpers.js';
import { PythonSession } from '../e2e/server.js';

const SAVES = 50;

it(`save -> callback latency over ${SAVES} saves`, async () => {
  const py = new PythonSession();
  const editor = await clientAs('editor');
  const title = unique('latency');
  await py.run(`import time
from myproject.models import Article, User
a = Article.objects.create(title="${title}", content="0", author=User.objects.order_by("id").first())`);
  const latencies: number[] = [];
  let seen = 0;
  const sub = Article.objects.using(editor).filter({ title }).values('id', 'content').subscribe({
    onEvent: (event) => {
      if (event.op !== 'UPDATED' || !event.node) return;
      latencies.push(Date.now() - Number(event.node.content) * 1000);
      seen += 1;
    },
  });
  await sub.ready;
  for (let i = 1; i <= SAVES; i++) {
    await py.run('a.content = repr(time.time()); a.save(update_fields=["content"])');
    await until(() => seen === i, 20_000, `event ${i}`);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 80)); // not in lockstep with any poll
  }
  sub.unsubscribe();
  await Promise.all([editor.close(), py.close()]);

  const sorted = [...latencies].sort((x, y) => x - y);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mode = process.env.REDIS_URL ? 'PostgreSQL + Redis' : 'SQLite + in-memory layer';
  const summary = {
    mode, saves: sorted.length,
    median_ms: Math.round(pick(0.5)), p90_ms: Math.round(pick(0.9)),
    min_ms: Math.round(sorted[0]!), max_ms: Math.round(sorted.at(-1)!),
  };
  console.log(`save -> callback (${mode}): ${JSON.stringify(summary)}`);
  mkdirSync('.e2e', { recursive: true });
  writeFileSync(`.e2e/latency-${process.env.REDIS_URL ? 'redis' : 'embedded'}.json`, JSON.stringify({ summary, latencies }, null, 2));
  expect(sorted).toHaveLength(SAVES);
});
