// Several servers from the browser (README "Several servers"): real chromium,
// one redis-server and two heraldd nodes sharing it, pages given both URLs.
// Clients pick a node at random; when theirs is killed with SIGKILL in the
// middle of a stream, they move to the other and resume there, over
// WebSocket and over SSE, receiving every message exactly once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startHeraldd, emitRequest, launchBrowser, until, sleep } from './lib.mjs';
import { startRedis } from '../integration/lib/redis.mjs';

let redis, browser;
const nodes = [];
// POST /emit/{channel} with an Idempotency-Key, over the node's emit socket.
function emitKeyed(n, channel, body, key) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: n.emitSock, method: 'POST', path: '/emit/' + channel, agent: false,
      headers: { 'Content-Length': Buffer.byteLength(body), 'Idempotency-Key': key } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('emit timed out')));
    req.end(body);
  });
}
const stats = async (n) => JSON.parse((await emitRequest(n.emitSock, 'GET', '/stats')).body);

before(async () => {
  redis = await startRedis();
  nodes.push(await startHeraldd({ historySize: 1000, extra: { redis: redis.url } }));
  // the same secret on both nodes: a name signed once is good on either
  nodes.push(await startHeraldd({ historySize: 1000, extra: { redis: redis.url, secret_file: nodes[0].secretFile } }));
  for (const n of nodes) await until(async () => (await stats(n)).redis_link_up === 1, 5000, 'link up');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const n of nodes) await n.stop();
  await redis?.stop();
});

// A page with herald.js from the first node and the list of both URLs.
async function openPage() {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${nodes[0].http}/healthz`);
  await page.addScriptTag({ url: `${nodes[0].http}/herald.js` });
  await page.evaluate((urls) => { window.urls = urls; window.clients = []; }, nodes.map((n) => n.url));
  return page;
}

test('many clients in one page spread over both nodes, not all on the first URL', async () => {
  const page = await openPage();
  const before = await Promise.all(nodes.map(async (n) => (await stats(n)).ws_connections_open));
  await page.evaluate(() => { for (let i = 0; i < 16; i++) clients.push(Herald.connect(urls, { transports: ['ws'] })); });
  await page.waitForFunction(() => clients.every((h) => h.state === 'open'));
  const added = await Promise.all(nodes.map(async (n, i) => (await stats(n)).ws_connections_open - before[i]));
  assert.equal(added[0] + added[1], 16);
  // all 16 on one node: a chance of 2 in 65,536 if each picks at random
  assert.ok(added[0] > 0 && added[1] > 0, `connections per node: ${added}`);
  await page.close();
});

test('SIGKILL the node a page is on mid-stream: it moves to the other node and misses nothing', async () => {
  const page = await openPage();
  const name = nodes[0].sign('cluster.kill');
  // a WebSocket client and an SSE client, both on the same node (the SSE
  // client is made again until it picked the WebSocket client's node)
  await page.evaluate((name) => {
    window.got = { ws: [], sse: [] };
    window.gaps = [];
    window.errs = [];
    const make = (t) => {
      const h = Herald.connect(urls, { transports: [t] });
      h.on('gap', (g) => gaps.push([t, g]));
      h.on('error', (e) => errs.push([t, e]));
      return h;
    };
    window.ws = make('ws');
    for (window.sse = make('sse'); sse._url.ws !== ws._url.ws; window.sse = make('sse')) sse.close();
    window.subscribed = 0;
    for (const [t, h] of [['ws', ws], ['sse', sse]]) {
      h.on('subscribed', () => subscribed++);
      h.subscribe(name, (d, m) => got[t].push(`${m.id}:${d}`));
    }
  }, name);
  await page.waitForFunction(() => subscribed === 2 && ws.state === 'open' && sse.state === 'open');
  const url = await page.evaluate(() => ws._url.ws);
  const victim = nodes.find((n) => url.startsWith(n.url));
  const survivor = nodes.find((n) => n !== victim);
  assert.ok(victim && survivor, url);
  // Emits alternate between the nodes, each with an idempotency key; one
  // that fails (its node died) is retried on the other with the same key,
  // as the PHP extension retries: published once whatever happened.
  const sent = [];
  let dead = false, stop = false;
  const emitter = (async () => {
    for (let i = 0; !stop; i++) {
      const key = 'k' + i, data = 'm' + i;
      let r;
      for (const n of [nodes[i % 2], nodes[(i + 1) % 2]]) {
        if (n === victim && dead) continue;
        r = await emitKeyed(n, 'cluster.kill', data, key).catch(() => null);
        if (r && r.status === 202) break;
      }
      assert.equal(r?.status, 202, `emit ${i}: ${r?.status} ${r?.body}`);
      sent.push(`${JSON.parse(r.body).id}:${data}`);
      await sleep(5);
    }
  })();
  await page.waitForFunction(() => got.ws.length >= 20 && got.sse.length >= 20);
  process.kill(victim.proc.pid, 'SIGKILL');
  dead = true;
  await victim.proc.exited;
  await page.waitForFunction((u) => ws.state === 'open' && sse.state === 'open' && ws._url.ws !== u && sse._url.ws !== u, url, { timeout: 10000 });
  const at = sent.length;
  await until(() => sent.length >= at + 30, 10000, '30 more emits after the move');
  stop = true;
  await emitter;
  const ids = sent.map((s) => Number(s.split(':')[0]));
  for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1, 'every emit published once: consecutive ids');
  await page.waitForFunction((n) => got.ws.length >= n && got.sse.length >= n, sent.length, { timeout: 10000 }).catch(async () => {
    throw new Error(`sent ${sent.length}, page ${JSON.stringify(await page.evaluate(() => [got.ws.length, got.sse.length, gaps, errs]))}`);
  });
  await sleep(100);
  const got = await page.evaluate(() => got);
  assert.deepEqual(got.ws, sent, 'WebSocket: every message once, in order');
  assert.deepEqual(got.sse, sent, 'SSE: every message once, in order');
  assert.deepEqual(await page.evaluate(() => [gaps, errs]), [[], []]);
  const st = await stats(survivor);
  assert.ok(st.ws_connections_open >= 1 && st.sse_connections_open >= 1, JSON.stringify(st));
  assert.deepEqual(page.errors, []);
  await page.close();
});
