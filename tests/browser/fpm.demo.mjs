// The real deployment path, as README "Behind nginx and php-fpm" writes it:
// nginx (examples/nginx.conf.in, nginx-tls.conf.in) in front of php-fpm
// (examples/php-fpm.conf.in) with the extension, and heraldd proxied under
// /herald/. No workaround the README does not show: no `user root;`, no
// php-fpm -R. As root the stack runs as a Debian admin's would (masters
// root, workers and sockets www-data); then once more started by www-data
// itself (unprivileged), and once behind TLS with a certificate made here;
// then README's Caddy and HAProxy configurations in front of the same.
// Run by tests/suites/85-demo-fpm.sh.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, cpSync, chmodSync, chownSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import http from 'node:http';
import https from 'node:https';
import { top, extSo, startHeraldd, start, freePort, tempDir, until, tcpReady, launchBrowser, loginPage,
  received, sign } from './lib.mjs';

const root = process.getuid() === 0;
const account = (name) => ({ name, uid: Number(execFileSync('id', ['-u', name])), gid: Number(execFileSync('id', ['-g', name])) });
// The account the web stack's workers and sockets belong to: www-data, as
// on Debian; a test run by someone else can only use its own account.
const web = root ? account('www-data') : account(userInfo().username);
const PER_IP = 4;          // heraldd's max_connections_per_ip here
let hd;

// Fill a template's @NAME@ placeholders; an unknown one is an error.
function render(tpl, vars) {
  return readFileSync(join(top, 'examples', tpl), 'utf8').replace(/@([A-Z_]+)@/g, (m, k) => {
    if (!(k in vars)) throw new Error(`${tpl}: no value for ${m}`);
    return vars[k];
  });
}

// The README recipe in a temp dir: the app copied where www-data can read
// it, sessions owned by the web account, both templates filled in, php-fpm
// and nginx started (by `as`, an account, or by this process).
async function startStack({ tls = false, as = null } = {}) {
  const dir = tempDir(tls ? 'tls' : 'fpm');
  const p = dir.path;
  const st = { dir, p, procs: [] };
  try {
    chmodSync(p, 0o755);      // like /srv/herald-demo: www-data may traverse it
    if (as) chownSync(p, as.uid, as.gid);
    cpSync(join(top, 'examples/demo/public'), join(p, 'public'), { recursive: true });
    mkdirSync(join(p, 'sessions'), { mode: 0o700 });
    chownSync(join(p, 'sessions'), web.uid, web.gid);
    const fpmSock = join(p, 'php-fpm.sock');
    writeFileSync(join(p, 'php-fpm.conf'), render('php-fpm.conf.in', {
      USER: web.name, PREFIX: p, FPM_SOCKET: fpmSock, EMIT: `unix://${hd.emitSock}`, SECRET_FILE: hd.secretFile,
    }));
    st.port = await freePort();
    const vars = { USER: web.name, PREFIX: p, LISTEN: `127.0.0.1:${st.port}`, ROOT: join(p, 'public'),
      FPM_SOCKET: fpmSock, HERALDD: `127.0.0.1:${hd.port}` };
    if (tls) {
      vars.CERT = join(p, 'cert.pem');
      vars.KEY = join(p, 'key.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', vars.KEY, '-out', vars.CERT], { stdio: 'pipe' });
      st.cert = readFileSync(vars.CERT);
    }
    writeFileSync(join(p, 'nginx.conf'), render(tls ? 'nginx-tls.conf.in' : 'nginx.conf.in', vars));
    const opts = as ? { uid: as.uid, gid: as.gid } : {};

    const fpm = start('php-fpm8.2', ['-n', '-d', `extension=${extSo}`, '-F', '-y', join(p, 'php-fpm.conf'), '-p', p], opts);
    st.procs.push(fpm);
    st.fpm = fpm;
    await until(() => { if (fpm.exitCode !== null) throw new Error('php-fpm exited: ' + fpm.log); return existsSync(fpmSock); },
      10000, 'php-fpm socket');
    const nginx = start('nginx', ['-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'nginx-error.log')], opts);
    st.procs.push(nginx);
    st.nginx = nginx;
    await until(async () => { if (nginx.exitCode !== null) throw new Error('nginx exited: ' + nginx.log); return tcpReady(st.port); },
      10000, 'nginx');
  } catch (e) { await stopStack(st); throw e; }
  st.base = `${tls ? 'https' : 'http'}://127.0.0.1:${st.port}`;
  return st;
}

async function stopStack(st) {
  for (const p of st?.procs.reverse() || []) await p.stop();
  st?.dir.remove();
}

// The user names the given process's children run as (nginx's, php-fpm's workers).
const childUsers = (proc) =>
  [...new Set(execFileSync('ps', ['-o', 'user=', '--ppid', String(proc.pid)]).toString().trim().split(/\s+/))];

// One request to the stack; over TLS it checks the certificate against the
// one this test made (fetch cannot be given a CA).
function request(st, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const mod = st.base.startsWith('https') ? https : http;
    const req = mod.request(st.base + path, { method, headers, ca: st.cert, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${path}: no answer in 5 s`)));
    req.end(body);
  });
}

// Log in over HTTP(S); returns the session cookie.
async function login(st, user) {
  const r = await request(st, '/login', { method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=' + user });
  assert.equal(r.status, 303, r.text);
  const cookie = r.headers['set-cookie'][0].split(';')[0];
  assert.match(cookie, /^PHPSESSID=/);
  return cookie;
}

async function pageConfig(st, cookie) {
  const page = (await request(st, '/', { headers: { cookie } })).text;
  const cfgJson = page.match(/window\.HERALD_DEMO = (.*);<\/script>/);
  assert.ok(cfgJson, 'the page carries its Herald config; got: ' + page.slice(0, 400));
  return JSON.parse(cfgJson[1]);
}

// Log in as user, subscribe to the user's channel over WebSocket through
// nginx, emit through the PHP route and check the message arrives.
async function emitReachesSubscriber(st, user, wsOpts = {}) {
  const cookie = await login(st, user);
  const cfg = await pageConfig(st, cookie);
  assert.equal(cfg.url, '/herald', 'behind the proxy the page uses a path on its own origin');
  const ws = new WebSocket(st.base.replace(/^http/, 'ws') + cfg.url + '/ws', wsOpts);
  const got = [];
  ws.on('message', (b) => got.push(JSON.parse(b.toString())));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  try {
    ws.send(JSON.stringify({ type: 'subscribe', req: 1, channel: cfg.channels[2] }));
    await until(() => got.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    const r = await request(st, `/emit/user.${user}/` + encodeURIComponent(`hi ${user} / from php-fpm`), { headers: { cookie } });
    assert.equal(r.status, 200, r.text);
    const { id } = JSON.parse(r.text);
    await until(() => got.some((m) => m.type === 'message'), 5000, 'the message');
    assert.deepEqual(got.find((x) => x.type === 'message'),
      { type: 'message', channel: `user.${user}`, id, data: `hi ${user} / from php-fpm` });
  } finally { ws.close(); }
}

before(async () => {
  if (!existsSync(extSo)) throw new Error(`${extSo} is not built (scripts/build-ext)`);
  // heraldd as README "Under systemd" sets it up behind nginx: the emit
  // socket's group is the web account's, the secret readable by it, and
  // nginx (127.0.0.1) trusted to name the browser's address.
  hd = await startHeraldd({ extra: { trusted_proxies: '127.0.0.1', max_connections_per_ip: PER_IP,
    ...(root ? { emit_socket_group: 'www-data' } : {}) } });
  chmodSync(hd.dir, 0o711);
  if (root) { chownSync(hd.secretFile, 0, web.gid); chmodSync(hd.secretFile, 0o640); }
});

after(async () => { await hd?.stop(); });

describe(root ? 'started by root, workers as www-data' : `started by ${web.name}`, () => {
  let st;
  before(async () => { st = await startStack(); });
  after(async () => { await stopStack(st); });

  test('fpm_workers_and_sockets_belong_to_the_web_account', { skip: !root && 'needs root' }, () => {
    assert.deepEqual(childUsers(st.fpm), ['www-data'], 'php-fpm workers');
    assert.deepEqual(childUsers(st.nginx), ['www-data'], 'nginx workers');
    const ls = execFileSync('stat', ['-c', '%U:%G %a', join(st.p, 'php-fpm.sock')]).toString().trim();
    assert.equal(ls, 'www-data:www-data 660');
  });

  test('fpm_page_has_signed_names_and_herald_js_comes_through_nginx', async () => {
    const cookie = await login(st, 'alice');
    const cfg = await pageConfig(st, cookie);
    assert.equal(cfg.url, '/herald');
    assert.equal(cfg.channels.length, 3);
    assert.ok(cfg.channels.includes(hd.sign('user.alice', { expiry: Number(cfg.channels[2].split('.').at(-2)) })),
      'PHP and heraldd sign the same bytes');
    const js = await fetch(st.base + '/herald/herald.js');
    assert.equal(js.status, 200);
    assert.match(await js.text(), /Herald/);
  });

  test('fpm_emit_without_a_session_is_refused', async () => {
    const r = await fetch(st.base + '/emit/id1/nope', { redirect: 'manual' });
    assert.equal(r.status, 401);
  });

  test('fpm_emit_through_php_reaches_a_websocket_subscriber_via_nginx', () => emitReachesSubscriber(st, 'bob'));

  test('fpm_per_ip_limit_counts_each_browser_address_not_the_proxy', async () => {
    // Browsers at 127.0.0.2 and 127.0.0.3; heraldd sees every connection
    // come from nginx at 127.0.0.1 and must count by X-Forwarded-For.
    const url = `ws://127.0.0.1:${st.port}/herald/ws`;
    const open = (from) => new Promise((resolve) => {
      const ws = new WebSocket(url, { localAddress: from });
      ws.once('open', () => resolve({ ws, status: 101 }));
      ws.once('unexpected-response', (req, res) => { resolve({ status: res.statusCode }); req.destroy(); });
      ws.once('error', (e) => resolve({ status: 0, error: e.message }));
    });
    const held = [];
    try {
      for (let i = 0; i < PER_IP; i++) held.push(await open('127.0.0.2'));
      assert.deepEqual(held.map((c) => c.status), Array(PER_IP).fill(101));
      const over = await open('127.0.0.2');
      assert.equal(over.status, 503, `connection ${PER_IP + 1} from one browser address is refused`);
      const other = await open('127.0.0.3');
      held.push(other);
      assert.equal(other.status, 101, 'another browser address is not counted with the first');
    } finally { for (const c of held) c.ws?.close(); }
  });

  test('fpm_access_log_keeps_no_signed_names', async () => {
    // A valid SSE subscription (its name in the query string) and a refused one.
    const ac = new AbortController();
    const sse = await fetch(`${st.base}/herald/sse?channel=${hd.sign('id1')}`, { signal: ac.signal });
    assert.equal(sse.status, 200);
    await sse.body.getReader().read();
    ac.abort();
    const forged = await fetch(`${st.base}/herald/sse?channel=${sign('not-the-secret-at-all', 'id1')}`);
    assert.equal(forged.status, 403);
    // A later request through the same nginx, logged: the log is on.
    const marker = 'marker' + Date.now();
    await (await fetch(`${st.base}/login?${marker}`)).text();
    const logFile = join(st.p, 'nginx-access.log');
    await until(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes(marker), 5000, 'the access log line');
    const log = readFileSync(logFile, 'utf8');
    assert.doesNotMatch(log, /~v1\./, 'no signed name in the access log');
    assert.doesNotMatch(log, /\/herald\//, 'the heraldd locations are not logged');
  });
});

describe('started by www-data (unprivileged)', { skip: !root && 'needs root to become www-data' }, () => {
  let st;
  before(async () => { st = await startStack({ as: web }); });
  after(async () => { await stopStack(st); });

  test('fpm_unprivileged_stack_runs_as_www_data', () => {
    for (const p of [st.fpm, st.nginx]) {
      const user = execFileSync('ps', ['-o', 'user=', '-p', String(p.pid)]).toString().trim();
      assert.equal(user, 'www-data');
    }
  });

  test('fpm_unprivileged_emit_reaches_a_websocket_subscriber', () => emitReachesSubscriber(st, 'erin'));
});

describe('behind TLS (nginx-tls.conf.in, self-signed certificate)', () => {
  let st;
  before(async () => { st = await startStack({ tls: true }); });
  after(async () => { await stopStack(st); });

  test('tls_emit_reaches_a_wss_subscriber_that_checks_the_certificate', () =>
    emitReachesSubscriber(st, 'frank', { ca: st.cert }));

  test('tls_real_browser_sees_an_emit_over_wss_and_https_sse', () => browserSeesEmit(st.base, 'carol', 'dave'));
});

// A logged-in WebSocket page and an SSE-only page, both on https:// through
// the proxy at base, see an emit one of them makes.
async function browserSeesEmit(base, wsUser, sseUser) {
  const browser = await launchBrowser();
  try {
    const ctx = { ignoreHTTPSErrors: true };    // the certificate is this test's own
    const ws = await loginPage(browser, base, wsUser, '', ctx);
    const sse = await loginPage(browser, base, sseUser, '?transports=sse', ctx);
    const host = new URL(base).host;
    assert.equal(await ws.evaluate(() => window.demo.herald.url.ws), `wss://${host}/herald/ws`);
    assert.equal(await sse.evaluate(() => window.demo.herald.url.sse), `https://${host}/herald/sse`);
    for (const p of [ws, sse]) await until(() => p.evaluate(() => window.demo.subscribed.some((s) => s.channel === 'id1')), 10000);
    await ws.click('a[data-channel="id1"][data-message="hello"]');
    for (const p of [ws, sse]) await p.waitForFunction(() => window.demo.received.length === 1, null, { timeout: 10000 });
    assert.deepEqual(await received(ws), ['id1:hello']);
    assert.deepEqual(await received(sse), ['id1:hello']);
    assert.deepEqual([ws.errors, sse.errors], [undefined, undefined], 'no page errors');
  } finally { await browser.close(); }
}

// The first ``` block after `marker` in the README.
function readmeBlock(marker) {
  const readme = readFileSync(join(top, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README has "${marker}"`);
  return readme.slice(at).match(/```\n([\s\S]*?)```/)[1];
}

// README's Caddy and HAProxy configurations, as written but for this
// machine's paths and ports, in front of the same php-fpm and heraldd.
describe('Caddy and HAProxy as README "TLS" writes them', () => {
  let st, cert, key;
  const procs = [];
  before(async () => {
    st = await startStack();          // php-fpm, and nginx for HAProxy's app backend
    cert = join(st.p, 'cert.pem');
    key = join(st.p, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    { stdio: 'pipe' });
  });
  after(async () => { for (const p of procs.reverse()) await p.stop(); await stopStack(st); });

  async function run(cmd, args, port, opts) {
    const p = start(cmd, args, opts);
    procs.push(p);
    await until(async () => { if (p.exitCode !== null) throw new Error(`${cmd} exited: ${p.log}`); return tcpReady(port); },
      10000, cmd);
    return p;
  }

  test('caddy_serves_the_demo_with_wss_and_sse', async () => {
    const port = await freePort();
    const site = readmeBlock('The same with **Caddy**')
      .replace('example.com {', `https://127.0.0.1:${port} {\n    tls ${cert} ${key}`)
      .replace('/srv/herald-demo/public', join(st.p, 'public'))
      .replace('unix//run/php/php8.2-fpm.sock', `unix/${join(st.p, 'php-fpm.sock')}`)
      .replace('127.0.0.1:8080', `127.0.0.1:${hd.port}`);
    const data = join(st.p, 'caddy');
    mkdirSync(data);
    // the test's own instance: no admin endpoint, no :80 redirect, state in the temp dir
    writeFileSync(join(st.p, 'Caddyfile'), `{\n    admin off\n    auto_https disable_redirects\n    storage file_system ${data}\n}\n` + site);
    await run('caddy', ['run', '--adapter', 'caddyfile', '--config', join(st.p, 'Caddyfile')], port,
      { env: { ...process.env, HOME: data, XDG_DATA_HOME: data, XDG_CONFIG_HOME: data } });
    await browserSeesEmit(`https://127.0.0.1:${port}`, 'gina', 'hal');
  });

  test('haproxy_serves_the_demo_with_wss_and_sse', async () => {
    const port = await freePort();
    const pem = join(st.p, 'haproxy.pem');
    writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
    const cfg = readmeBlock('with **HAProxy**')
      .replace(/bind :443 ssl crt \S+/, `bind 127.0.0.1:${port} ssl crt ${pem}`)
      .replace('127.0.0.1:8000', `127.0.0.1:${st.port}`)
      .replace('127.0.0.1:8080', `127.0.0.1:${hd.port}`);
    // what Debian's /etc/haproxy/haproxy.cfg provides before it: timeouts
    writeFileSync(join(st.p, 'haproxy.cfg'),
      'defaults\n    mode http\n    timeout connect 5s\n    timeout client 1m\n    timeout server 1m\n\n' + cfg);
    execFileSync('haproxy', ['-c', '-q', '-f', join(st.p, 'haproxy.cfg')]);
    await run('haproxy', ['-db', '-f', join(st.p, 'haproxy.cfg')], port);
    await browserSeesEmit(`https://127.0.0.1:${port}`, 'ivan', 'judy');
  });
});
