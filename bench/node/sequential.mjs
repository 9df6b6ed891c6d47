// One sequential keep-alive client: N POSTs of one body, one at a time, on one socket.
// Prints one JSON line: the latency percentiles in microseconds.
//   node sequential.mjs <url> <body-file> <calls>
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [url, bodyFile, calls = '2000'] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL(url);

function once() {
  return new Promise((resolve, reject) => {
    const request = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
    }, (response) => {
      const chunks = [];
      response.on('data', (c) => chunks.push(c));
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(
        new Error(`HTTP ${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}

for (let i = 0; i < 200; i++) await once(); // warm-up: the socket, caches, JIT
const samples = [];
for (let i = 0; i < Number(calls); i++) {
  const started = process.hrtime.bigint();
  await once();
  samples.push(Number(process.hrtime.bigint() - started) / 1000);
}
samples.sort((a, b) => a - b);
const at = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
console.log(JSON.stringify({ calls: samples.length, p50_us: at(50), p90_us: at(90), p99_us: at(99) }));
agent.destroy();
