// Pusher webhooks: channel_occupied / channel_vacated (subscribers on every
// loop going 0 -> 1 -> 0) and member_added / member_removed, batched as
// Pusher batches them and signed, POSTed to the app's webhook URL (a node
// http server here, which checks the signature). A receiver that fails
// first gets the batch again; one that never answers slows no delivery;
// what does not fit in webhook_queue_size is dropped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import Pusher from 'pusher-js';
import { startHeraldd, client, until, sleep } from './lib/heraldd.mjs';

const APP = { id: '1001', key: 'herald-key', secret: 'a-secret-of-enough-bytes-0123456789' };

// A webhook receiver: every request with its body, whether its signature
// is right, and the status answer(n) gives for the n-th request.
async function receiver(answer = () => 200) {
  const { default: PusherServer } = await import('pusher');
  const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret });
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const sig = createHmac('sha256', APP.secret).update(body).digest('hex');
      const status = answer(got.length);
      got.push({ body, json: JSON.parse(body), key: req.headers['x-pusher-key'], signed: req.headers['x-pusher-signature'] === sig,
        sdkValid: sdk.webhook({ headers: req.headers, rawBody: body }).isValid(),
        type: req.headers['content-type'], status });
      res.writeHead(status).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { got, url: `http://127.0.0.1:${server.address().port}/pusher/webhook`, close: () => new Promise((r) => server.close(r)),
    events: () => got.filter((g) => g.status === 200).flatMap((g) => g.json.events) };
}

async function withHooks(url, fn, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-hook-'));
  const apps = join(dir, 'apps');
  writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}:${url}\n`, { mode: 0o600 });
  const hd = await startHeraldd({ args: ['--public_channels', 'public-*', '--pusher_apps_file', apps, ...extra] });
  try { await fn(hd); } finally { await hd.stop(); rmSync(dir, { recursive: true, force: true }); }
}

// With two loops the two clients of public-a may sit on different loops:
// the channel is occupied once and vacated once all the same.
for (const workers of [1, 2]) test(`webhooks (workers=${workers}): occupied, vacated, member events, batched and signed`, async () => {
  const rx = await receiver();
  try {
    await withHooks(rx.url, async (hd) => {
      // subscribers of public-a until every loop has one (one event only)
      const subs = [];
      for (let spread = false; !spread;) {
        const x = await client(hd);
        await x.subscribe('public-a');
        subs.push(x);
        const st = await until(async () => { const v = await hd.stats(); return v.loops.reduce((n, l) => n + l.ws_connections, 0) === subs.length ? v : null; }, 5000, 'per-loop figures');
        spread = subs.length >= 2 && st.loops.every((l) => l.ws_connections > 0);
        assert.ok(subs.length < 30, 'SO_REUSEPORT never spread the clients');
      }
      await until(() => rx.events().length === 1, 5000, 'channel_occupied');
      const p = new Pusher(APP.key, {
        cluster: 'mt1', wsHost: '127.0.0.1', wsPort: hd.port, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
        channelAuthorization: { customHandler: ({ socketId, channelName }, cb) => {
          const cd = JSON.stringify({ user_id: 'ü-1', user_info: {} });
          cb(null, { auth: `${APP.key}:${createHmac('sha256', APP.secret).update(`${socketId}:${channelName}:${cd}`).digest('hex')}`, channel_data: cd });
        } },
      });
      const ch = p.subscribe('presence-room');
      await new Promise((res, rej) => { ch.bind('pusher:subscription_succeeded', res); ch.bind('pusher:subscription_error', rej); });
      for (const x of subs) x.close();
      p.disconnect();
      const want = [
        { name: 'channel_occupied', channel: 'public-a' },
        { name: 'channel_occupied', channel: 'presence-room' },
        { name: 'member_added', channel: 'presence-room', user_id: 'ü-1' },
        { name: 'channel_vacated', channel: 'public-a' },
        { name: 'channel_vacated', channel: 'presence-room' },
        { name: 'member_removed', channel: 'presence-room', user_id: 'ü-1' },
      ];
      await until(() => rx.events().length === want.length, 5000, 'six events');
      const sortKey = (e) => JSON.stringify(e);
      assert.deepEqual(rx.events().map(sortKey).sort(), want.map(sortKey).sort());
      // occupied comes before member_added, vacated of a channel after its occupied
      const names = rx.events().map((e) => `${e.name}:${e.channel}`);
      assert.ok(names.indexOf('channel_occupied:presence-room') < names.indexOf('member_added:presence-room'));
      for (const g of rx.got) {
        assert.equal(g.signed, true, 'X-Pusher-Signature is HMAC-SHA256(secret, body)');
        assert.equal(g.sdkValid, true, 'the Pusher Node SDK accepts it');
        assert.equal(g.key, APP.key);
        assert.equal(g.type, 'application/json');
        assert.ok(Math.abs(g.json.time_ms - Date.now()) < 60000);
      }
      await sleep(200); // nothing more comes
      assert.equal(rx.events().length, want.length);
      const s = await hd.stats();
      assert.equal(s.webhook_batches_sent, rx.got.length);
      assert.equal(s.webhook_events_dropped, 0);
    }, ['--workers', String(workers), '--handshake_timeout_ms', '400']); // per-loop figures every 200 ms
  } finally { await rx.close(); }
});

// A webhook URL added to pusher_apps_file takes effect at SIGHUP; before
// it nothing is queued.
test('webhooks: a URL added at a reload is used from then on', async () => {
  const rx = await receiver();
  const dir = mkdtempSync(join(tmpdir(), 'herald-hook-'));
  const apps = join(dir, 'apps');
  writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}\n`, { mode: 0o600 });
  const hd = await startHeraldd({ args: ['--public_channels', 'public-*', '--pusher_apps_file', apps] });
  try {
    const c = await client(hd);
    await c.subscribe('public-before');
    writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}:${rx.url}\n`, { mode: 0o600 });
    process.kill(hd.proc.pid, 'SIGHUP');
    await until(async () => (await hd.stats()).reloads === 1, 5000, 'reloaded');
    await c.subscribe('public-after');
    await until(() => rx.events().length === 1, 5000, 'the event after the reload');
    await sleep(200);
    assert.deepEqual(rx.events(), [{ name: 'channel_occupied', channel: 'public-after' }]);
    c.close();
  } finally {
    await hd.stop();
    rmSync(dir, { recursive: true, force: true });
    await rx.close();
  }
});

test('webhooks: a receiver answering 500 gets the same batch again', async () => {
  const rx = await receiver((n) => (n === 0 ? 500 : 200));
  try {
    await withHooks(rx.url, async (hd) => {
      const c = await client(hd);
      await c.subscribe('public-b');
      await until(() => rx.got.length === 2, 5000, 'the retry');
      assert.equal(rx.got[0].status, 500);
      assert.equal(rx.got[1].body, rx.got[0].body, 'the same batch, the same signature');
      assert.equal(rx.got[1].signed, true);
      assert.deepEqual(rx.events(), [{ name: 'channel_occupied', channel: 'public-b' }]);
      const s = await hd.stats();
      assert.equal(s.webhook_retries, 1);
      assert.equal(s.webhook_batches_sent, 1);
      c.close();
    });
  } finally { await rx.close(); }
});

// A receiver that accepts the connection and never answers: messages are
// delivered at once all the same, and past webhook_queue_size events are
// dropped and counted (in /stats and /metrics), not held.
test('webhooks: a dead receiver slows no delivery and holds at most webhook_queue_size events', async () => {
  const held = [];
  const dead = net.createServer((s) => { held.push(s); s.on('error', () => {}); });
  await new Promise((r) => dead.listen(0, '127.0.0.1', r));
  try {
    await withHooks(`http://127.0.0.1:${dead.address().port}/hook`, async (hd) => {
      const c = await client(hd);
      await c.subscribe('public-live');
      // 20 more channels occupied and vacated: 41 events for a queue of 5
      for (let i = 0; i < 20; i++) {
        const x = await client(hd);
        await x.subscribe('public-x' + i);
        x.close();
      }
      await until(async () => (await hd.stats()).webhook_events_dropped >= 41 - 5, 5000, 'events dropped');
      // the receiver holds a POST open, and emits are still delivered at once
      assert.ok(held.length >= 1, 'the webhook POST reached the dead receiver');
      for (let i = 0; i < 10; i++) {
        const t0 = Date.now();
        await hd.emit('public-live', 'm' + i);
        await until(() => c.messages().length === i + 1, 5000, 'message ' + i);
        assert.ok(Date.now() - t0 < 1000, `message ${i} took ${Date.now() - t0} ms`);
      }
      const metrics = (await hd.emitReq('GET', '/metrics')).body;
      const dropped = [...metrics.matchAll(/^herald_webhook_events_dropped_total\{loop="\d+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.ok(dropped >= 36, 'dropped in /metrics: ' + dropped);
      c.close();
    }, ['--webhook_queue_size', '5', '--webhook_timeout_ms', '10000']);
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => dead.close(r));
  }
});
