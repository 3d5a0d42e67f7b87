// The real deployment path: nginx (examples/nginx.conf.in) in front of
// php-fpm (examples/php-fpm.conf.in) with the extension, and heraldd proxied
// under /herald/. Run by tests/suites/85-demo-fpm.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { top, extSo, startHeraldd, start, freePort, tempDir, until, tcpReady, launchBrowser, loginPage, received } from './lib.mjs';
import { existsSync } from 'node:fs';

let hd, dir, fpm, nginx, base;
const root = process.getuid() === 0;

// Fill a template's @NAME@ placeholders; an unknown one is an error.
function render(tpl, vars) {
  return readFileSync(join(top, 'examples', tpl), 'utf8').replace(/@([A-Z_]+)@/g, (m, k) => {
    if (!(k in vars)) throw new Error(`${tpl}: no value for ${m}`);
    return vars[k];
  });
}

before(async () => {
  if (!existsSync(extSo)) throw new Error(`${extSo} is not built (scripts/build-ext)`);
  hd = await startHeraldd();
  dir = tempDir('fpm');
  const p = dir.path;
  for (const d of ['sessions', 'client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(p, d));
  const fpmSock = join(p, 'php-fpm.sock');
  writeFileSync(join(p, 'php-fpm.conf'), render('php-fpm.conf.in', {
    PREFIX: p, FPM_SOCKET: fpmSock, EMIT: `unix://${hd.emitSock}`, SECRET_FILE: hd.secretFile,
  }));
  const port = await freePort();
  let conf = render('nginx.conf.in', {
    PREFIX: p, LISTEN: `127.0.0.1:${port}`, ROOT: join(top, 'examples/demo/public'),
    FPM_SOCKET: fpmSock, HERALDD: `127.0.0.1:${hd.port}`,
  });
  // As root nginx would hand its workers to "nobody", who cannot reach the
  // php-fpm socket in our private temp dir: keep them as root.
  if (root) conf = 'user root;\n' + conf;
  writeFileSync(join(p, 'nginx.conf'), conf);

  fpm = start('php-fpm8.2', ['-n', '-d', `extension=${extSo}`, '-F', '-y', join(p, 'php-fpm.conf'), '-p', p, ...(root ? ['-R'] : [])]);
  await until(() => { if (fpm.exitCode !== null) throw new Error('php-fpm exited: ' + fpm.log); return existsSync(fpmSock); },
    10000, 'php-fpm socket');
  nginx = start('nginx', ['-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'nginx-error.log')]);
  await until(async () => { if (nginx.exitCode !== null) throw new Error('nginx exited: ' + nginx.log); return tcpReady(port); },
    10000, 'nginx');
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await nginx?.stop();
  await fpm?.stop();
  await hd?.stop();
  dir?.remove();
});

// Log in over plain HTTP; returns the session cookie.
async function login(user) {
  const r = await fetch(base + '/login', { method: 'POST', redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=' + user });
  assert.equal(r.status, 303);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  assert.match(cookie, /^PHPSESSID=/);
  return cookie;
}

test('fpm_page_has_signed_names_and_herald_js_comes_through_nginx', async () => {
  const cookie = await login('alice');
  const page = await (await fetch(base + '/', { headers: { cookie } })).text();
  const cfgJson = page.match(/window\.HERALD_DEMO = (.*);<\/script>/);
  assert.ok(cfgJson, 'the page carries its Herald config; got: ' + page.slice(0, 400));
  const cfg = JSON.parse(cfgJson[1]);
  assert.equal(cfg.url, `ws://${new URL(base).host}/herald`);
  assert.equal(cfg.channels.length, 3);
  assert.ok(cfg.channels.includes(hd.sign('user.alice', { expiry: Number(cfg.channels[2].split('.').at(-2)) })),
    'PHP and heraldd sign the same bytes');
  const js = await fetch(base + '/herald/herald.js');
  assert.equal(js.status, 200);
  assert.match(await js.text(), /Herald/);
});

test('fpm_emit_without_a_session_is_refused', async () => {
  const r = await fetch(base + '/emit/id1/nope', { redirect: 'manual' });
  assert.equal(r.status, 401);
});

test('fpm_emit_through_php_reaches_a_websocket_subscriber_via_nginx', async () => {
  const cookie = await login('bob');
  const page = await (await fetch(base + '/', { headers: { cookie } })).text();
  const cfgJson = page.match(/window\.HERALD_DEMO = (.*);<\/script>/);
  assert.ok(cfgJson, 'the page carries its Herald config; got: ' + page.slice(0, 400));
  const cfg = JSON.parse(cfgJson[1]);
  const ws = new WebSocket(`${cfg.url}/ws`);
  const got = [];
  ws.on('message', (b) => got.push(JSON.parse(b.toString())));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'subscribe', req: 1, channel: cfg.channels[2] }));
  await until(() => got.some((m) => m.type === 'subscribed'));
  const r = await fetch(base + '/emit/user.bob/' + encodeURIComponent('hi bob / from php-fpm'), { headers: { cookie } });
  assert.equal(r.status, 200, await r.clone().text());
  const { id } = await r.json();
  await until(() => got.some((m) => m.type === 'message'));
  const m = got.find((x) => x.type === 'message');
  assert.deepEqual(m, { type: 'message', channel: 'user.bob', id, data: 'hi bob / from php-fpm' });
  ws.close();
});

test('fpm_real_browser_sees_an_emit_over_ws_and_sse_through_nginx', async () => {
  const browser = await launchBrowser();
  try {
    const ws = await loginPage(browser, base, 'carol');
    const sse = await loginPage(browser, base, 'dave', '?transports=sse');
    for (const p of [ws, sse]) await until(() => p.evaluate(() => window.demo.subscribed.some((s) => s.channel === 'id1')), 10000);
    await ws.click('a[data-channel="id1"][data-message="hello"]');
    for (const p of [ws, sse]) await p.waitForFunction(() => window.demo.received.length === 1, null, { timeout: 10000 });
    assert.deepEqual(await received(ws), ['id1:hello']);
    assert.deepEqual(await received(sse), ['id1:hello']);
  } finally { await browser.close(); }
});
