// A throwaway redis-server for cluster tests (no persistence, loopback, a
// free port), stopped by PID, and one-command requests to it.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort, until } from './heraldd.mjs';

const running = new Set();
process.on('exit', () => { for (const p of running) try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } });

export async function startRedis(port, extra = []) {
  port = port || await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--protected-mode', 'no', ...extra], { stdio: ['ignore', 'ignore', 'ignore'] });
  running.add(proc);
  proc.exited = new Promise((r) => proc.once('exit', () => { running.delete(proc); r(); }));
  await until(() => new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { s.destroy(); res(/^(\+PONG|-NOAUTH)/.test(d.toString())); });
    s.on('error', () => res(false));
  }), 5000, 'redis-server');
  return {
    proc, port, url: `redis://127.0.0.1:${port}`,
    cmd: (...args) => redisCmd(port, args),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) { process.kill(proc.pid, signal); await proc.exited; }
    },
  };
}

// One command (RESP array of bulk strings); resolves the reply decoded:
// a string, a number, null, an array, or an Error for "-ERR ...".
export function redisCmd(port, args) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.on('connect', () => {
      let out = `*${args.length}\r\n`;
      for (const a of args) out += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
      s.write(out);
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, 0);
      if (r) { s.destroy(); resolve(r.v); }
    });
    s.on('error', reject);
  });
}

// One RESP2 value at off: {v, end}, or null when more bytes are needed.
function parse(b, off) {
  const nl = b.indexOf('\r\n', off);
  if (nl < 0) return null;
  const line = b.toString('utf8', off + 1, nl), t = String.fromCharCode(b[off]);
  if (t === '+') return { v: line, end: nl + 2 };
  if (t === '-') return { v: new Error(line), end: nl + 2 };
  if (t === ':') return { v: Number(line), end: nl + 2 };
  if (t === '$') {
    const n = Number(line);
    if (n < 0) return { v: null, end: nl + 2 };
    if (b.length < nl + 2 + n + 2) return null;
    return { v: b.toString('utf8', nl + 2, nl + 2 + n), end: nl + 4 + n };
  }
  if (t === '*') {
    const n = Number(line);
    if (n < 0) return { v: null, end: nl + 2 };
    const v = [];
    let at = nl + 2;
    for (let i = 0; i < n; i++) {
      const e = parse(b, at);
      if (!e) return null;
      v.push(e.v);
      at = e.end;
    }
    return { v, end: at };
  }
  throw new Error('unexpected RESP type ' + t);
}
