// ts_client from Node: `User.objects.get({ pk })` N times, one call at a time, as a
// TypeScript back end would call it (the generated client over the global fetch,
// which keeps its connection alive). Prints one JSON line: the latency percentiles in
// microseconds.   node ts_client_get.mjs <graphql-url> <pk> <calls>
import { createClient } from '../../ts_client/dist/src/index.js';
import { User } from '../../ts_client/dist/src/generated/models.js';

const [url, pk = '1', calls = '2000'] = process.argv.slice(2);
const users = User.objects.using(createClient({ url }));

for (let i = 0; i < 200; i++) await users.get({ pk }); // warm-up: the socket, caches, JIT
const samples = [];
for (let i = 0; i < Number(calls); i++) {
  const started = process.hrtime.bigint();
  const user = await users.get({ pk });
  samples.push(Number(process.hrtime.bigint() - started) / 1000);
  if (String(user.id) !== String(pk)) throw new Error(`asked for user ${pk}, got ${user.id}`);
}
samples.sort((a, b) => a - b);
const at = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
console.log(JSON.stringify({ calls: samples.length, p50_us: at(50), p90_us: at(90), p99_us: at(99) }));
