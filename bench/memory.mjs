// What an outsider (or a careless app) can make heraldd hold: the issue 11
// scenarios (items 5 and 6), measured by VmRSS from /proc/PID/status.
// Runs against the binary named by HERALDD (default daemon/heraldd) with
// default limits, so two builds compare on the same commands:
//   HERALDD=path/to/old/heraldd node bench/memory.mjs
//   node bench/memory.mjs
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startHeraldd, client, until } from '../tests/integration/lib/heraldd.mjs';

const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const mb = (kib) => (kib / 1024).toFixed(1) + ' MiB';

function sseOnce(port, names) {
  const path = '/sse?' + names.map((n) => 'channel=' + encodeURIComponent(n)).join('&');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      req.destroy();
      resolve(res.statusCode);
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? null : reject(e)));
  });
}

async function emitBatch(hd, pairs) {
  const parts = [];
  for (const [ch, msg] of pairs) {
    const m = Buffer.from(msg);
    parts.push(Buffer.from(`${ch} ${m.length}\n`), m, Buffer.from('\n'));
  }
  const r = await hd.emitReq('POST', '/emit', Buffer.concat(parts), { 'Content-Type': 'application/x-herald-batch' });
  if (r.status !== 202) throw new Error(r.body);
}

async function scenario(name, args, body) {
  const hd = await startHeraldd({ args: ['--log_level', 'error', ...args] });
  try {
    const before = rss(hd.proc.pid);
    const t0 = Date.now();
    const extra = await body(hd);
    const after = rss(hd.proc.pid);
    const st = await hd.stats();
    console.log(`${name}: RSS ${mb(before)} -> ${mb(after)} (+${mb(after - before)}), channels held ${st.channels}, ${Date.now() - t0} ms${extra ? ', ' + extra : ''}`);
  } finally { await hd.stop(); }
}

await scenario('A. 20,000 fresh public names over SSE, 64 per request, one address', ['--public_channels', 'pub.*'], async (hd) => {
  const status = {};
  for (let i = 0; i < 20000; i += 64) {
    const names = [];
    for (let j = i; j < Math.min(i + 64, 20000); j++) names.push(`pub.n${j}`);
    const s = await sseOnce(hd.port, names);
    status[s] = (status[s] || 0) + 1;
  }
  return 'answers ' + JSON.stringify(status);
});

await scenario('B. 20,000 fresh names, WebSocket subscribe+unsubscribe churn', ['--public_channels', 'pub.*', '--max_commands_per_second', '100000'], async (hd) => {
  const c = await client(hd);
  for (let i = 0; i < 20000; i++) {
    c.send({ type: 'subscribe', req: 2 * i + 1, channel: `pub.w${i}` });
    c.send({ type: 'unsubscribe', req: 2 * i + 2, channel: `pub.w${i}` });
    if (i % 500 === 499) await until(() => c.msgs.length >= 2 * (i + 1), 10000, 'answers');
  }
  const limited = c.msgs.filter((m) => m.code === 'rate_limited').length;
  c.close();
  return `rate_limited ${limited}`;
});

for (const n of [20000, 100000]) {
  await scenario(`C. one 5-byte emit to each of ${n} channels`, [], async (hd) => {
    for (let b = 0; b < n; b += 10000) {
      const pairs = [];
      for (let i = b; i < b + 10000; i++) pairs.push([`user.${i}`, 'hello']);
      await emitBatch(hd, pairs);
    }
  });
}

await scenario('D. 40 x 1 MiB emits to two channels, no subscriber', [], async (hd) => {
  const body = 'x'.repeat(1024 * 1024 - 100);
  for (let i = 0; i < 40; i++) await hd.emit(i % 2 ? 'big.b' : 'big.a', body);
});

// The sweep used to walk every channel under the lock every tick: emits
// waited for it. With 100,000 channels, time 2,000 sequential emits.
await scenario('E. emit latency with 100,000 channels held (sweep ticks meanwhile)', [], async (hd) => {
  for (let b = 0; b < 100000; b += 10000) {
    const pairs = [];
    for (let i = b; i < b + 10000; i++) pairs.push([`user.${i}`, 'hello']);
    await emitBatch(hd, pairs);
  }
  const lat = [];
  for (let i = 0; i < 2000; i++) {
    const t = process.hrtime.bigint();
    await hd.emit('probe', 'x');
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(2);
  return `emit latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, p99.9 ${q(0.999)} ms, max ${lat[lat.length - 1].toFixed(2)} ms`;
});
