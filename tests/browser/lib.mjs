// Shared helpers for the browser and SSE tests: free ports, starting heraldd
// and PHP (stopped by PID), signing names, emitting, a cuttable TCP proxy,
// and chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';

export const top = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
export const heralddBin = process.env.HERALDD || join(top, 'daemon/heraldd');
export const extSo = process.env.HERALD_EXT || join(top, 'build/ext/modules/herald.so');

// Polling, sleeping and free ports are the integration helper's.
import { sleep, until, freePort } from '../integration/lib/heraldd.mjs';
export { sleep, until, freePort };

export function tempDir(tag) {
  const d = mkdtempSync(join(tmpdir(), `herald-${tag}-`));
  return { path: d, remove: () => rmSync(d, { recursive: true, force: true }) };
}

// Every process a test starts goes through here so it is stopped by its PID.
const started = new Set();
export function start(cmd, args, opts = {}) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  p.log = '';
  p.stdout.on('data', (b) => { p.log += b; });
  p.stderr.on('data', (b) => { p.log += b; });
  p.exited = new Promise((r) => p.once('exit', (code, sig) => r({ code, sig })));
  started.add(p);
  p.exited.then(() => started.delete(p));
  p.stop = async () => {
    if (p.exitCode !== null || p.signalCode !== null) return p.exited;
    process.kill(p.pid, 'SIGTERM');
    const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, 3000);
    const r = await p.exited;
    clearTimeout(t);
    return r;
  };
  return p;
}
process.on('exit', () => { for (const p of started) try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } });

// HTTP over heraldd's emit Unix socket.
export function emitRequest(sock, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path, agent: false,
      headers: body != null ? { 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('emit request timed out')));
    req.end(body);
  });
}

export async function emit(sock, channel, message) {
  const r = await emitRequest(sock, 'POST', '/emit/' + encodeURIComponent(channel), message);
  if (r.status !== 202) throw new Error(`emit ${channel}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

// README "Signed channel names", written independently of common/signed.c.
export function sign(secret, channel, { kid = '0', expiry = 0 } = {}) {
  const mac = createHmac('sha256', secret).update(`v1.${kid}.${expiry}.${channel}`).digest('base64url');
  return `${channel}~v1.${kid}.${expiry}.${mac}`;
}

export function tcpReady(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const c = net.connect(port, host, () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

// Start heraldd on a free loopback port with its emit listener on a Unix
// socket in a temp dir; resolves when both answer.
export async function startHeraldd(opts = {}) {
  if (!existsSync(heralddBin)) throw new Error(`${heralddBin} is not built (make -C daemon)`);
  const dir = tempDir('heraldd');
  const secret = randomBytes(32).toString('base64');
  const secretFile = join(dir.path, 'secret');
  writeFileSync(secretFile, secret + '\n', { mode: 0o600 });
  const port = opts.port || await freePort();
  const emitSock = join(dir.path, 'emit.sock');
  const args = ['--listen', `127.0.0.1:${port}`, '--emit_listen', `unix:${emitSock}`,
    '--secret_file', secretFile];
  if (opts.historySize) args.push('--history_size', String(opts.historySize));
  for (const [k, v] of Object.entries(opts.extra || {})) args.push('--' + k, String(v));
  const proc = start(heralddBin, args);
  try {
    await until(async () => {
      if (proc.exitCode !== null) throw new Error('heraldd exited: ' + proc.log);
      return existsSync(emitSock) && (await emitRequest(emitSock, 'GET', '/healthz').catch(() => ({}))).status === 200 &&
        tcpReady(port);
    }, 10000, 'heraldd to answer');
  } catch (e) { await proc.stop(); dir.remove(); throw e; }
  return {
    proc, port, emitSock, secret, secretFile, dir: dir.path,
    url: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    sign: (ch, o) => sign(secret, ch, o),
    emit: (ch, msg) => emit(emitSock, ch, msg),
    stop: async () => {
      await proc.stop();
      dir.remove();
      // A sanitizer build (HERALDD=...) reports at exit: that fails the test.
      if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(proc.log)) throw new Error('sanitizer report:\n' + proc.log.slice(-4000));
    },
  };
}

// The demo app under `php -S` with the extension, talking to heraldd hd;
// publicUrl is what the page connects to (a proxy, or heraldd itself).
export async function startDemo(hd, { publicUrl = hd.url } = {}) {
  if (!existsSync(extSo)) throw new Error(`${extSo} is not built (scripts/build-ext)`);
  const dir = tempDir('php');
  const port = await freePort();
  const proc = start('php', ['-n', '-d', `extension=${extSo}`, '-d', `herald.endpoint=unix://${hd.emitSock}`,
    '-d', `herald.secret_file=${hd.secretFile}`, '-d', `session.save_path=${dir.path}`,
    '-S', `127.0.0.1:${port}`, '-t', join(top, 'examples/demo/public'), join(top, 'examples/demo/public/index.php')],
  { env: { ...process.env, HERALD_PUBLIC_URL: publicUrl } });
  await until(async () => {
    if (proc.exitCode !== null) throw new Error('php -S exited: ' + proc.log);
    return tcpReady(port);
  }, 10000, 'php -S');
  return { proc, url: `http://127.0.0.1:${port}`, stop: async () => { await proc.stop(); dir.remove(); } };
}

// A TCP proxy in front of heraldd that the test can cut (close every
// connection at once) and block (refuse new ones), as a network would.
export async function startProxy(targetPort) {
  const pairs = new Set();
  let blocked = false;
  const server = net.createServer((c) => {
    if (blocked) return c.destroy();
    const u = net.connect(targetPort, '127.0.0.1');
    const pair = [c, u];
    pairs.add(pair);
    const end = () => { c.destroy(); u.destroy(); pairs.delete(pair); };
    c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
    c.pipe(u); u.pipe(c);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port, url: `ws://127.0.0.1:${port}`,
    get connections() { return pairs.size; },
    cut() { for (const [c, u] of [...pairs]) { c.destroy(); u.destroy(); } pairs.clear(); },
    block(b = true) { blocked = b; },
    stop: () => new Promise((r) => { for (const [c, u] of pairs) { c.destroy(); u.destroy(); } server.close(() => r()); }),
  };
}

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Headless chromium; playwright gives each launch a fresh --user-data-dir
// of its own (it refuses one in args), and each context its own cookies.
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: chromiumArgs, timeout: 30000 });
}

// A browser context logged in to the demo as `user`, on the demo page;
// ctxOpts go to playwright's newContext (e.g. ignoreHTTPSErrors).
export async function loginPage(browser, demoUrl, user, query = '', ctxOpts = {}) {
  const ctx = await browser.newContext(ctxOpts);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { page.errors = (page.errors || []).concat(String(e)); });
  await page.goto(demoUrl + '/login');
  await page.fill('input[name=user]', user);
  await Promise.all([page.waitForURL(demoUrl + '/'), page.click('button')]);
  if (query) await page.goto(demoUrl + '/' + query);
  await page.waitForFunction(() => window.demo && window.demo.herald.state === 'open', null, { timeout: 10000 });
  return page;
}

// The messages the page has shown, as "channel#id:data".
export const received = (page) => page.evaluate(() => window.demo.received.map((m) => `${m.channel}:${m.data}`));
export { readFileSync, execFileSync };
