// Rough cluster figures (not a test; raw clients do not answer pings, so
// pings are off): one heraldd alone, then three nodes on
// one redis-server (started here, loopback, no persistence), then three
// nodes on a three-master Redis Cluster (redis_cluster, sharded pub/sub). Prints
// emit->delivery latency (median, p99) for single emits, and for a burst
// the delivered frames per second and heraldd CPU per delivered frame.
// Usage:
//   node tests/integration/lib/measure-cluster.mjs [subscribers=300] [burst=2000] [singles=300] [emit_connections=8]
// The burst goes over several kept-alive emit connections, as php-fpm
// workers' are (in a cluster each connection waits for Redis per emit).
// KEYED=1: every emit carries a fresh Idempotency-Key, as the PHP
// extension's do (in a cluster the key is checked and stored in Redis).
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHeraldd, rawWs, frame, until, freePort, sleep } from './heraldd.mjs';
import { startCluster } from './rcluster.mjs';

const [S = 300, M = 2000, L = 300, E = 8] = process.argv.slice(2).map(Number);
const KEYED = process.env.KEYED === '1' ? `k${process.pid}-` : '';
let keys = 0;
const TICK = 100; // /proc/PID/stat clock ticks per second (Linux default)

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
}

async function startRedis(extra = []) {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  await until(() => new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { s.destroy(); res(d.toString().startsWith('+PONG')); });
    s.on('error', () => res(false));
  }), 5000);
  return { proc, port };
}

// Raw subscribers that count message frames and timestamp the ones asked for.
async function subscribe(hd, n, onProbe) {
  const subs = [];
  for (let i = 0; i < n; i++) {
    const r = await rawWs(hd);
    r.s.write(frame(1, JSON.stringify({ type: 'subscribe', req: 1, channel: 'pub.bench' })));
    await until(() => r.data.includes('"subscribed"'));
    r.msgs = 0;
    r.s.removeAllListeners('data');
    r.s.on('data', (c) => {
      const t = process.hrtime.bigint();
      const text = c.toString('latin1');
      r.msgs += (text.match(/"type":"message"/g) || []).length;
      if (onProbe && i === 0) for (const m of text.matchAll(/"data":"p(\d+)"/g)) onProbe(Number(m[1]), t);
    });
    subs.push(r);
  }
  return subs;
}

// One kept-alive emit connection; send() resolves when its 202 arrives.
async function emitter(hd) {
  const s = net.connect(hd.emitSock);
  await new Promise((r) => s.on('connect', r));
  const waiting = [];
  s.on('data', (c) => { for (const _ of c.toString().matchAll(/HTTP\/1.1 202/g)) waiting.shift()(); });
  return {
    send(body) {
      const key = KEYED ? `Idempotency-Key: ${KEYED}${++keys}\r\n` : '';
      s.write(`POST /emit/pub.bench HTTP/1.1\r\nHost: x\r\n${key}Content-Length: ${body.length}\r\n\r\n${body}`);
      return new Promise((r) => waiting.push(r));
    },
    close: () => s.destroy(),
  };
}

async function scenario(name, hds, emitVia) {
  const sent = new Map(), lat = [];
  const probe = (k, t) => { if (sent.has(k)) lat.push(Number(t - sent.get(k)) / 1e3); };
  // latency first, with one subscriber per node (this process's own event
  // loop would otherwise be most of what is measured); the probe sits on
  // the last node: in the cluster, not the one that takes the emits
  const all = [];
  for (const [i, hd] of hds.entries()) all.push(...await subscribe(hd, 1, i === hds.length - 1 ? probe : null));
  const em = await emitter(emitVia);
  for (let k = 0; k < L; k++) { sent.set(k, process.hrtime.bigint()); await em.send('p' + k); await sleep(2); }
  await until(() => lat.length >= L, 10000);
  lat.sort((a, b) => a - b);
  const per = Math.floor(S / hds.length);
  for (const hd of hds) all.push(...await subscribe(hd, per - 1, null));
  for (const r of all) r.msgs = 0;
  let tracer = null;
  if (process.env.STRACE || process.env.PERF) {
    const pid = String(hds[process.env.PERF_NODE ? Number(process.env.PERF_NODE) : hds.length - 1].proc.pid);
    tracer = process.env.PERF
      ? spawn('perf', ['record', '-g', '-o', process.env.PERF + '.' + hds.length, '-p', pid], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('strace', ['-c', '-f', '-p', pid], { stdio: ['ignore', 'ignore', 'pipe'] });
    tracer.out = '';
    tracer.stderr.on('data', (d) => { tracer.out += d; });
    await sleep(500);
  }
  const cpus0 = hds.map((h) => cpuMs(h.proc.pid));
  const st0 = await Promise.all(hds.map((h) => h.stats()));
  const cpu0 = cpus0.reduce((a, b) => a + b, 0);
  const t0 = process.hrtime.bigint();
  const ems = [em];
  for (let i = 1; i < E; i++) ems.push(await emitter(emitVia));
  const inflight = [];
  for (let k = 0; k < M; k++) { inflight.push(ems[k % E].send('b' + k)); if (inflight.length >= 4 * E) await inflight.shift(); }
  await Promise.all(inflight);
  try {
    await until(() => all.every((r) => r.msgs >= M), 60000);
  } catch (e) {
    const short = all.filter((r) => r.msgs < M);
    console.log(`${short.length} subscribers short: ${short.slice(0, 5).map((r) => r.msgs + (r.closed ? ' closed' : '')).join(', ')}`);
    for (const h of hds) console.log(JSON.stringify(await h.stats()));
    throw e;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpus = hds.map((h, i) => cpuMs(h.proc.pid) - cpus0[i]);
  const st1 = await Promise.all(hds.map((h) => h.stats()));
  const perWrite = st1.map((s, i) => ((s.frames_delivered - st0[i].frames_delivered) / (s.socket_writes - st0[i].socket_writes)).toFixed(1));
  const cpu = cpus.reduce((a, b) => a + b, 0);
  const frames = M * all.length;
  if (tracer) {
    tracer.kill('SIGINT');
    await new Promise((r) => tracer.on('exit', r));
    console.log(`syscalls of the last node (${per} subscribers) during the burst:\n` + tracer.out.split('\n').slice(0, 14).join('\n'));
  }
  console.log(`${name}: ${all.length} subscribers over ${hds.length} node(s), ${E} emit connection(s); latency emit->delivery ` +
    `median ${lat[Math.floor(L / 2)].toFixed(0)} us, p99 ${lat[Math.floor(L * 0.99)].toFixed(0)} us; ` +
    `burst of ${M}: ${(frames / secs).toFixed(0)} frames/s, ${((cpu * 1000) / frames).toFixed(2)} us heraldd CPU per frame, frames per write ${perWrite.join(', ')}` +
    (hds.length > 1 ? ` (CPU ms per node: ${cpus.map((c) => c.toFixed(0)).join(', ')}; node 1 takes the emits)` : ''));
  for (const e of ems) e.close();
  for (const r of all) r.s.destroy();
}

const quiet = ['--log_level', 'warn', '--max_connections_per_ip', '0', '--ping_interval_ms', '3600000', '--public_channels', 'pub.*', '--max_queue_bytes', String(64 << 20)];
const single = await startHeraldd({ args: quiet });
try { await scenario('single node', [single], single); } finally { await single.stop(); }
const redis = await startRedis();
const nodes = [];
try {
  for (let i = 0; i < 3; i++) nodes.push(await startHeraldd({ args: [...quiet, '--redis', `redis://127.0.0.1:${redis.port}`] }));
  await scenario('3 nodes + redis, emits through node 1', nodes, nodes[0]);
  const rcpu = cpuMs(redis.proc.pid);
  console.log(`redis-server CPU so far: ${rcpu.toFixed(0)} ms`);
} finally {
  for (const n of nodes) await n.stop();
  redis.proc.kill('SIGTERM');
}
const dir = mkdtempSync(join(tmpdir(), 'herald-measure-'));
const masters = await startCluster(dir); // rcluster.mjs: bus ports off the ephemeral range
const cnodes = [];
try {
  const seeds = masters.map((m) => `127.0.0.1:${m.port}`).join(',');
  for (let i = 0; i < 3; i++) cnodes.push(await startHeraldd({ args: [...quiet, '--redis_cluster', seeds] }));
  for (const n of cnodes) await until(async () => (await n.stats()).redis_link_up === 1, 10000);
  await scenario('3 nodes + 3-master Redis Cluster, emits through node 1', cnodes, cnodes[0]);
  console.log(`redis-server CPU so far (the channel's master): ${Math.max(...masters.map((m) => cpuMs(m.proc.pid))).toFixed(0)} ms`);
} finally {
  for (const n of cnodes) await n.stop();
  for (const m of masters) m.proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
