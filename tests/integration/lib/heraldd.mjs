// Helpers for heraldd's integration tests: start the daemon on free
// loopback ports with a temp secret and emit socket, wait for /healthz,
// stop it by PID; emit over the Unix socket; WebSocket and raw clients.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { WebSocket } from 'ws';

export const top = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
export const bin = process.env.HERALDD || join(top, 'daemon/heraldd');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll cond() until truthy or fail after ms.
export async function until(cond, ms = 5000, what = String(cond)) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(10);
  }
}

// A port no one listens on, below Linux's ephemeral range (32768-60999):
// a port the kernel picks for us is one it may also give, a moment later,
// to any test's outgoing connection as its source port, before the server
// it was meant for binds it ("address already in use"). Ports handed out
// by this process are not handed out again.
const handedOut = new Set();
function canListen(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
export async function freePort() {
  for (let i = 0; i < 500; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port in 20000-31999');
}

// One HTTP request over a Unix socket or TCP port; resolves status/headers/body.
export function request({ socketPath, port, method = 'GET', path, body, headers = {}, localAddress }) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body != null && h['Content-Length'] === undefined) h['Content-Length'] = Buffer.byteLength(body);
    const req = http.request({ socketPath, port, host: '127.0.0.1', method, path, agent: false, headers: h, localAddress }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.end(body);
  });
}

// Send raw bytes on a fresh TCP/Unix connection; resolve everything read
// until the server closes (or ms passes).
export function raw(target, bytes, ms = 3000) {
  return new Promise((resolve) => {
    const s = target.socketPath ? net.connect(target.socketPath) : net.connect(target.port, '127.0.0.1');
    const chunks = [];
    const t = setTimeout(() => { s.destroy(); resolve({ data: Buffer.concat(chunks), closed: false }); }, ms);
    s.on('connect', () => s.write(bytes));
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve({ data: Buffer.concat(chunks), closed: true }); });
  });
}

export function sign(secret, channel, { kid = '0', expiry = 0 } = {}) {
  const mac = createHmac('sha256', secret).update(`v1.${kid}.${expiry}.${channel}`).digest('base64url');
  return `${channel}~v1.${kid}.${expiry}.${mac}`;
}

const running = new Set();
process.on('exit', () => { for (const p of running) try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } });

// Start heraldd; opts.args adds flags, opts.secret=false runs without one,
// opts.nofile sets the open-file limit, opts.env adds to the environment.
export async function startHeraldd(opts = {}) {
  if (!existsSync(bin)) throw new Error(`${bin} is not built (make -C daemon)`);
  const dir = mkdtempSync(join(tmpdir(), 'herald-it-'));
  const secret = randomBytes(32).toString('base64');
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, secret + '\n', { mode: 0o600 });
  const port = await freePort();
  const emitPort = await freePort();
  const emitSock = join(dir, 'emit.sock');
  const args = ['--listen', `127.0.0.1:${port}`, '--emit', `unix:${emitSock}`, '--emit', `127.0.0.1:${emitPort}`,
    ...(opts.secret === false ? [] : ['--secret-file', secretFile]), '--log_level', 'debug', ...(opts.args || [])];
  // opts.nofile = [soft, hard]: start under that open-file limit (the
  // shell execs heraldd, so the PID stays heraldd's).
  const how = { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...(opts.env || {}) } };
  const proc = opts.nofile
    ? spawn('/bin/sh', ['-c', `ulimit -Sn ${opts.nofile[0]} && ulimit -Hn ${opts.nofile[1]} && exec "$0" "$@"`, bin, ...args], how)
    : spawn(bin, args, how);
  running.add(proc);
  proc.log = '';
  proc.stderr.on('data', (b) => { proc.log += b; });
  proc.exited = new Promise((r) => proc.once('exit', (code, signal) => { running.delete(proc); r({ code, signal }); }));
  const hd = {
    proc, dir, port, emitPort, emitSock, secret, secretFile,
    url: `ws://127.0.0.1:${port}/ws`,
    sign: (ch, o) => sign(secret, ch, o),
    emitReq: (method, path, body, headers) => request({ socketPath: emitSock, method, path, body, headers }),
    async emit(ch, msg) {
      const r = await request({ socketPath: emitSock, method: 'POST', path: '/emit/' + encodeURIComponent(ch), body: msg });
      if (r.status !== 202) throw new Error(`emit ${ch}: ${r.status} ${r.body}`);
      return JSON.parse(r.body);
    },
    async stats() { return JSON.parse((await request({ socketPath: emitSock, path: '/stats' })).body); },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        process.kill(proc.pid, 'SIGTERM');
        const t = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, 8000);
        await proc.exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
      // A sanitizer build (HERALDD=...) reports here: that fails the test.
      if (/ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:/.test(proc.log)) throw new Error('sanitizer report:\n' + proc.log.slice(-4000));
      return proc.exited;
    },
  };
  try {
    await until(async () => {
      if (proc.exitCode !== null) throw new Error('heraldd exited: ' + proc.log);
      const r = await request({ port, path: '/healthz' }).catch(() => null);
      return r && r.status === 200 && existsSync(emitSock);
    }, 10000, 'heraldd /healthz');
  } catch (e) { await hd.stop(); throw e; }
  return hd;
}

// A WebSocket client that records every message and its close code.
export async function client(hd, opts = {}) {
  const ws = new WebSocket(hd.url, opts);
  const c = { ws, msgs: [], closeCode: null, closed: null };
  c.closed = new Promise((r) => ws.on('close', (code) => { c.closeCode = code; r(code); }));
  ws.on('message', (b, isBinary) => { c.msgs.push(JSON.parse(b.toString())); });
  ws.on('error', () => {});
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  let req = 0;
  c.send = (o) => ws.send(JSON.stringify(o));
  // Send a command and wait for the answer with its req.
  c.cmd = async (o) => {
    const id = ++req;
    c.send({ ...o, req: id });
    return until(() => c.msgs.find((m) => m.req === id), 5000, `answer to ${JSON.stringify(o)}`);
  };
  c.subscribe = (channel, extra = {}) => c.cmd({ type: 'subscribe', channel, ...extra });
  c.messages = () => c.msgs.filter((m) => m.type === 'message');
  c.close = () => ws.terminate();
  return c;
}

// A raw WebSocket over net: handshake done, frames written by hand.
export async function rawWs(hd) {
  const s = net.connect(hd.port, '127.0.0.1');
  const r = { s, data: Buffer.alloc(0), closed: false };
  s.on('data', (c) => { r.data = Buffer.concat([r.data, c]); });
  s.on('error', () => {});
  r.ended = new Promise((res) => s.on('close', () => { r.closed = true; res(); }));
  await new Promise((res) => s.on('connect', res));
  s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await until(() => r.data.includes('\r\n\r\n'), 3000, 'handshake');
  r.data = r.data.subarray(r.data.indexOf('\r\n\r\n') + 4);
  // The first close frame the server sent: its code, or null.
  r.closeCode = () => {
    let d = r.data;
    while (d.length >= 2) {
      const op = d[0] & 15;
      let len = d[1] & 127, off = 2;
      if (len === 126) { len = d.readUInt16BE(2); off = 4; } else if (len === 127) { len = Number(d.readBigUInt64BE(2)); off = 10; }
      if (op === 8) return len >= 2 ? d.readUInt16BE(off) : 1005;
      d = d.subarray(off + len);
    }
    return null;
  };
  return r;
}

// A client frame: masked (unless mask=false), FIN unless fin=false.
export function frame(opcode, payload, { fin = true, mask = true } = {}) {
  const p = Buffer.from(payload);
  const key = randomBytes(4);
  let head;
  if (p.length < 126) head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | p.length]);
  else { head = Buffer.alloc(4); head[0] = (fin ? 0x80 : 0) | opcode; head[1] = (mask ? 0x80 : 0) | 126; head.writeUInt16BE(p.length, 2); }
  if (!mask) return Buffer.concat([head, p]);
  const m = Buffer.from(p.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, m]);
}

export function heralddSync(args) {
  try {
    return { code: 0, out: execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) { return { code: e.status, out: String(e.stdout || ''), err: String(e.stderr || '') }; }
}
