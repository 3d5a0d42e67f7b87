// herald.js's SSE transport in real chromium against a scripted fake heraldd
// (so it runs before and independently of the daemon): fallback when
// WebSocket cannot connect, resume with `since` after a cut, refusals found
// by probing each name, and the other names kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { top, tempDir, launchBrowser } from './lib.mjs';

let srv, browser, port, dir;
const streams = new Set();
const requests = [];
const hist = [];
let nextId = 5000;

// /sse per README: `channel=NAME[,SINCE]`, a subscribed event per channel,
// then history after SINCE and live messages; names starting "bad" get 403.
function sse(req, res, u) {
  const chans = u.searchParams.getAll('channel');
  requests.push(chans);
  const cors = { 'Access-Control-Allow-Origin': '*' };
  if (chans.some((c) => c.startsWith('bad'))) {
    res.writeHead(403, { ...cors, 'Content-Type': 'text/plain' });
    return res.end('bad signature\n');
  }
  res.writeHead(200, { ...cors, 'Content-Type': 'text/event-stream' });
  for (const c of chans) {
    const [signed, since] = c.split(',');
    const channel = signed.split('~')[0];
    res.write(`data: ${JSON.stringify({ type: 'subscribed', channel, last: nextId - 1, resume: 'ok' })}\n\n`);
    if (since) for (const m of hist) if (m.channel === channel && m.id > +since) res.write(`id: ${channel}:${m.id}\ndata: ${JSON.stringify(m)}\n\n`);
  }
  streams.add(res);
  req.on('close', () => streams.delete(res));
}

function send(channel, data) {
  const m = { type: 'message', channel, id: nextId++, data };
  hist.push(m);
  for (const s of streams) s.write(`id: ${channel}:${m.id}\ndata: ${JSON.stringify(m)}\n\n`);
}

before(async () => {
  dir = tempDir('client-sse');
  execFileSync(join(top, 'client/build.sh'), [join(top, 'client/herald.js'), join(dir.path, 'herald.js'), 'classic']);
  const js = readFileSync(join(dir.path, 'herald.js'));
  srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/') { res.writeHead(200, { 'Content-Type': 'text/html' }); return res.end('<script src="/herald.js"></script>'); }
    if (u.pathname === '/herald.js') { res.writeHead(200, { 'Content-Type': 'text/javascript' }); return res.end(js); }
    if (u.pathname === '/sse') return sse(req, res, u);
    res.writeHead(404); res.end(); // /ws included: WebSocket cannot connect here
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  port = srv.address().port;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const s of streams) s.destroy();
  await new Promise((r) => srv.close(r));
  dir.remove();
});

test('client_falls_back_to_sse_resumes_after_a_cut_and_drops_refused_names', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.evaluate((p) => {
    window.got = []; window.errs = []; window.states = [];
    window.h = Herald.connect(`ws://127.0.0.1:${p}`, { reconnectBaseMs: 50, reconnectMaxMs: 200 });
    h.on('error', (e) => errs.push(e));
    h.on('state', (s) => states.push(s));
    h.subscribe('a~sig', (d, m) => got.push(`${m.channel}:${m.id}:${d}`));
    h.subscribe('b~sig', (d, m) => got.push(`${m.channel}:${m.id}:${d}`), { json: true });
  }, port);
  await page.waitForFunction(() => h.state === 'open', null, { timeout: 10000 });
  const base = nextId;
  send('a', 'a0'); send('b', '"b0"');
  await page.waitForFunction(() => got.length === 2);
  for (const s of streams) s.destroy(); // the network drops the stream
  send('a', 'a1'); send('b', '"b1"'); send('a', 'a2');
  await page.waitForFunction(() => got.length === 5, null, { timeout: 10000 });
  // In order and once per channel (the order across channels is free).
  const got = await page.evaluate(() => got);
  assert.deepEqual(got.filter((g) => g.startsWith('a:')), [`a:${base}:a0`, `a:${base + 2}:a1`, `a:${base + 4}:a2`]);
  assert.deepEqual(got.filter((g) => g.startsWith('b:')), [`b:${base + 1}:b0`, `b:${base + 3}:b1`]);
  // The reconnect asked for each channel after its own last id.
  assert.deepEqual(requests.at(-1).sort(), [`a~sig,${base}`, `b~sig,${base + 1}`]);

  await page.evaluate(() => h.subscribe('bad~forged', () => got.push('leak')));
  await page.waitForFunction(() => errs.length === 1, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => errs), [{ channel: 'bad', code: 'forbidden', reason: 'bad signature' }]);
  await page.waitForFunction(() => h.state === 'open', null, { timeout: 10000 });
  const before = requests.length;
  await new Promise((r) => setTimeout(r, 100));
  send('a', 'a3');
  await page.waitForFunction(() => got.length === 6, null, { timeout: 10000 });
  assert.equal((await page.evaluate(() => got)).at(-1), `a:${base + 5}:a3`);
  assert.ok(!requests.slice(before).flat().some((c) => c.startsWith('bad')));
  assert.ok((await page.evaluate(() => states)).includes('reconnecting'));
  await page.close();
});
