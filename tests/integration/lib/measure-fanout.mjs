// Rough fan-out figure (not a test): N raw WebSocket subscribers on one
// channel, M emits pipelined on one kept-alive emit connection; prints how
// long until every subscriber has every message. Usage:
//   node tests/integration/lib/measure-fanout.mjs [subscribers=200] [messages=5000] [bytes=100]
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startHeraldd, rawWs, frame, until } from './heraldd.mjs';

const [N = 200, M = 5000, B = 100] = process.argv.slice(2).map(Number);
const hd = await startHeraldd({ args: ['--log_level', 'warn', '--max_queue_bytes', String(64 << 20)] });
try {
  const subs = [];
  for (let i = 0; i < N; i++) {
    const r = await rawWs(hd);
    r.s.write(frame(1, JSON.stringify({ type: 'subscribe', req: 1, channel: hd.sign('fan') })));
    await until(() => r.data.includes('"subscribed"'));
    r.count = 0;
    r.s.removeAllListeners('data');
    r.s.on('data', (c) => { r.count += c.length; });
    subs.push(r);
  }
  const msg = 'x'.repeat(B);
  // Every message frame has the same size except for the id's digits (fixed width here).
  const probe = JSON.stringify({ type: 'message', channel: 'fan', id: 1000000000000000, data: msg });
  const frameLen = probe.length + (probe.length < 126 ? 2 : 4);
  const s = net.connect(hd.emitSock);
  await new Promise((r) => s.on('connect', r));
  let answered = 0;
  s.on('data', (c) => { answered += (c.toString().match(/HTTP\/1.1 202/g) || []).length; });
  const t0 = process.hrtime.bigint();
  let batch = '';
  for (let i = 0; i < M; i++) {
    batch += `POST /emit/fan HTTP/1.1\r\nContent-Length: ${B}\r\n\r\n${msg}`;
    if (batch.length > 65536) { s.write(batch); batch = ''; }
  }
  s.write(batch);
  await until(() => answered === M, 120000, 'emits answered');
  const t1 = process.hrtime.bigint();
  await until(() => subs.every((r) => r.count >= M * frameLen), 120000, 'all delivered');
  const t2 = process.hrtime.bigint();
  const ms = (a, b) => Number(b - a) / 1e6;
  console.log(`subscribers=${N} messages=${M} bytes=${B}`);
  console.log(`emits accepted: ${ms(t0, t1).toFixed(0)} ms (${(M / ms(t0, t1) * 1000).toFixed(0)} emits/s)`);
  console.log(`all delivered:  ${ms(t0, t2).toFixed(0)} ms (${(N * M / ms(t0, t2) * 1000).toFixed(0)} deliveries/s)`);
  // CPU seconds heraldd used (utime+stime from /proc), to tell its cost from the client's.
  const st = readFileSync(`/proc/${hd.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  console.log(`heraldd cpu:    ${((Number(st[11]) + Number(st[12])) / 100).toFixed(2)} s; node client cpu: ${(process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(2)} s`);
  for (const r of subs) r.s.destroy();
  s.destroy();
} finally { await hd.stop(); }
