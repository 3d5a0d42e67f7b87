// A real Redis Cluster for the tests (README "Redis Cluster"): redis-server
// with --cluster-enabled on free loopback ports, joined by redis-cli
// --cluster create; a RESP client, and the slot arithmetic to pick channels
// whose slots a given master serves.
import { spawn, execFile } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { freePort, until } from './heraldd.mjs';

// Commands to one Redis in RESP (binary-safe); resolves the parsed answers.
export function redis(port, ...cmds) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const out = [];
    s.on('connect', () => s.write(cmds.map((c) => `*${c.length}\r\n` + c.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')).join('')));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parse(buf, 0);
        if (!r) break;
        out.push(r.v);
        buf = buf.subarray(r.end);
        if (out.length === cmds.length) { s.destroy(); resolve(cmds.length === 1 ? out[0] : out); return; }
      }
    });
    s.on('error', reject);
  });
}

export function parse(b, i) {
  const nl = b.indexOf('\r\n', i);
  if (nl < 0) return null;
  const t = String.fromCharCode(b[i]), line = b.toString('utf8', i + 1, nl);
  if (t === '+' ) return { v: line, end: nl + 2 };
  if (t === '-') return { v: new Error(line), end: nl + 2 };
  if (t === ':') return { v: Number(line), end: nl + 2 };
  if (t === '$') {
    const n = Number(line);
    if (n < 0) return { v: null, end: nl + 2 };
    if (b.length < nl + 2 + n + 2) return null;
    return { v: b.toString('utf8', nl + 2, nl + 2 + n), end: nl + 2 + n + 2 };
  }
  if (t === '*') {
    const n = Number(line), v = [];
    let at = nl + 2;
    for (let k = 0; k < n; k++) { const r = parse(b, at); if (!r) return null; v.push(r.v); at = r.end; }
    return { v, end: at };
  }
  throw new Error('bad RESP ' + t);
}

// Masters still running when the test file's process ends (a hook that
// failed half way through a cluster's start) are killed with it.
const running = new Set();
process.on('exit', () => { for (const p of running) try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } });

// Each master's cluster bus port, kept for its restarts. Redis would take
// port + 10000, which lies in the kernel's ephemeral range, where the
// tests' own outgoing connections may already hold it.
const busPorts = new Map();

// One cluster-enabled redis-server keeping its files in dir.
export async function startMaster(dir, port, extra = []) {
  if (!busPorts.has(port)) busPorts.set(port, await freePort());
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
    '--cluster-port', String(busPorts.get(port)),
    '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no', '--appendfilename', `aof-${port}`, ...extra], { stdio: ['ignore', 'ignore', 'ignore'] });
  running.add(proc);
  proc.exited = new Promise((r) => proc.once('exit', () => { running.delete(proc); r(); }));
  await until(() => redis(port, ['PING']).then((r) => r === 'PONG', () => false), 5000, 'redis-server ' + port);
  return proc;
}

// n masters joined into one cluster: [{ port, proc, id, slots: [[lo, hi]...] }].
export async function startCluster(dir, n = 3) {
  const masters = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    masters.push({ port, proc: await startMaster(dir, port) });
  }
  await new Promise((res, rej) => execFile('redis-cli', ['--cluster', 'create', ...masters.map((m) => `127.0.0.1:${m.port}`),
    '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20000 }, (e, out, err) => (e ? rej(new Error(err || out)) : res())));
  for (const m of masters)
    await until(async () => /cluster_state:ok/.test(await redis(m.port, ['CLUSTER', 'INFO'])), 10000, 'cluster_state:ok');
  for (const m of masters) {
    const me = (await redis(m.port, ['CLUSTER', 'NODES'])).split('\n').find((l) => l.includes('myself'));
    const f = me.split(' ');
    m.id = f[0];
    m.slots = f.slice(8).map((r) => r.split('-').map(Number)).map(([lo, hi]) => [lo, hi ?? lo]);
  }
  return masters;
}

export async function stopCluster(masters) {
  for (const m of masters) if (m.proc.exitCode === null && m.proc.signalCode === null) { process.kill(m.proc.pid, 'SIGTERM'); await m.proc.exited; }
}

// Redis Cluster's key slot (CRC16/XMODEM of the hash tag), to pick channels per master.
export function slotOf(key) {
  const o = key.indexOf('{'), c = o >= 0 ? key.indexOf('}', o + 1) : -1;
  const k = Buffer.from(o >= 0 && c > o + 1 ? key.slice(o + 1, c) : key);
  let crc = 0;
  for (const x of k) { crc ^= x << 8; for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff; }
  return crc & 16383;
}

// The master serving channel ch's slot (its keys and pub/sub channel).
export const ownerOf = (masters, ch) => masters.find((m) => m.slots.some(([lo, hi]) => slotOf(`herald:{${ch}}:0`) >= lo && slotOf(`herald:{${ch}}:0`) <= hi));

// n channels named prefix+i whose slots live on master m
export function channelsOn(masters, m, prefix, n) {
  const out = [];
  for (let i = 0; out.length < n; i++) if (ownerOf(masters, prefix + i) === m) out.push(prefix + i);
  return out;
}
