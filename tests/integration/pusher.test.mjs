// The Pusher protocol: the real pusher-js 8 (npm) against heraldd's
// /app/{key}, with public, private and presence channels signed as a
// Laravel /broadcasting/auth endpoint signs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Pusher from 'pusher-js';
import { startHeraldd, until } from './lib/heraldd.mjs';

const APP = { id: '1001', key: 'herald-key', secret: 'a-secret-of-enough-bytes-0123456789' };

// Start heraldd with a pusher_apps_file written first.
async function withApps(fn, extra = []) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'herald-pusher-'));
  const apps = join(dir, 'apps');
  writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}\n`, { mode: 0o600 });
  const hd = await startHeraldd({ args: ['--public_channels', 'public-*', '--pusher_apps_file', apps, ...extra] });
  try { await fn(hd); } finally { await hd.stop(); rmSync(dir, { recursive: true, force: true }); }
}

// What Laravel's Broadcast::auth() answers (and Herald\pusher_auth()).
function auth(socketId, channel, channelData) {
  const sig = createHmac('sha256', APP.secret)
    .update(channelData ? `${socketId}:${channel}:${channelData}` : `${socketId}:${channel}`).digest('hex');
  return channelData ? { auth: `${APP.key}:${sig}`, channel_data: channelData } : { auth: `${APP.key}:${sig}` };
}

function client(hd, user, key = APP.key) {
  return new Pusher(key, {
    cluster: 'mt1', wsHost: '127.0.0.1', wsPort: hd.port, forceTLS: false, enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) => {
        const cd = channelName.startsWith('presence-') ? JSON.stringify({ user_id: user.id, user_info: { name: user.name } }) : null;
        cb(null, auth(socketId, channelName, cd));
      },
    },
  });
}

const subscribed = (ch) => new Promise((res, rej) => {
  ch.bind('pusher:subscription_succeeded', res);
  ch.bind('pusher:subscription_error', rej);
});

test('pusher_public_and_private_channels_receive_emits_as_events', async () => {
  await withApps(async (hd) => {
    const p = client(hd, { id: 1, name: 'ann' });
    const pub = p.subscribe('public-news');
    const priv = p.subscribe('private-orders.1');
    // both bound at once: the second answer may come in the same read
    await Promise.all([subscribed(pub), subscribed(priv)]);
    const got = [];
    pub.bind('message', (d) => got.push(['public-news', 'message', d]));
    priv.bind('OrderShipped', (d) => got.push(['private-orders.1', 'OrderShipped', d]));
    await hd.emit('public-news', 'plain text');
    await hd.emit('private-orders.1', JSON.stringify({ event: 'OrderShipped', data: { id: 7 } }));
    await until(() => got.length === 2, 5000, 'two events');
    assert.deepEqual(got, [['public-news', 'message', 'plain text'], ['private-orders.1', 'OrderShipped', { id: 7 }]]);
    p.disconnect();
  });
});

test('pusher_refuses_bad_signatures_unlisted_public_channels_and_client_events', async () => {
  await withApps(async (hd) => {
    const p = client(hd, { id: 1, name: 'ann' });
    const errors = [];
    p.connection.bind('error', (e) => errors.push(e?.data?.code ?? e?.error?.data?.code));
    await new Promise((r) => p.connection.bind('connected', r));
    const forged = new Pusher(APP.key, { cluster: 'mt1', wsHost: '127.0.0.1', wsPort: hd.port, forceTLS: false,
      enabledTransports: ['ws'], disableStats: true,
      channelAuthorization: { customHandler: (x, cb) => cb(null, { auth: `${APP.key}:${'0'.repeat(64)}` }) } });
    await assert.rejects(subscribed(forged.subscribe('private-orders.1')));
    await assert.rejects(subscribed(p.subscribe('news')));
    const priv = p.subscribe('private-chat');
    await subscribed(priv);
    assert.equal(priv.trigger('client-typing', { who: 'ann' }), true);
    await until(() => errors.includes(4301), 5000, 'client event refused with 4301');
    assert.equal((await hd.stats()).pusher_client_events_refused, 1);
    p.disconnect();
    forged.disconnect();
  });
});

test('pusher_unknown_app_key_gets_4001', async () => {
  await withApps(async (hd) => {
    const p = client(hd, { id: 1 }, 'no-such-key');
    const code = await new Promise((r) => p.connection.bind('error', (e) => r(e?.data?.code ?? e?.error?.data?.code)));
    assert.equal(code, 4001);
    p.disconnect();
  });
});

test('pusher_presence_one_member_per_user_across_tabs', async () => {
  await withApps(async (hd) => {
    const ann1 = client(hd, { id: 1, name: 'ann' });
    const ch1 = ann1.subscribe('presence-room');
    await subscribed(ch1);
    assert.equal(ch1.members.count, 1);
    const events = [];
    ch1.bind('pusher:member_added', (m) => events.push(['added', m.id]));
    ch1.bind('pusher:member_removed', (m) => events.push(['removed', m.id]));
    const ann2 = client(hd, { id: 1, name: 'ann' });
    const ch2 = ann2.subscribe('presence-room');
    await subscribed(ch2);
    assert.equal(ch2.members.count, 1); // the same user in a second tab
    const bob = client(hd, { id: 2, name: 'bob' });
    const ch3 = bob.subscribe('presence-room');
    await subscribed(ch3);
    assert.equal(ch3.members.count, 2);
    assert.deepEqual(ch3.members.get('1').info, { name: 'ann' });
    await until(() => events.length === 1, 5000, 'bob added');
    ann2.disconnect(); // ann still has a tab: not removed
    bob.disconnect();
    await until(() => events.length === 2, 5000, 'bob removed');
    assert.deepEqual(events, [['added', '2'], ['removed', '2']]);
    assert.equal(ch1.members.count, 1);
    ann1.disconnect();
  });
});

// The Pusher server SDK (npm `pusher`), unchanged, against the emit port.
test('pusher_http_api_with_the_node_sdk_trigger_batch_and_queries', async () => {
  const { default: PusherServer } = await import('pusher');
  const { request, client: heraldClient } = await import('./lib/heraldd.mjs');
  await withApps(async (hd) => {
    const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(hd.emitPort), useTLS: false });
    const p = client(hd, { id: 1, name: 'ann' });
    const ch = p.subscribe('private-orders.1');
    await subscribed(ch);
    const pub = p.subscribe('public-news');
    await subscribed(pub);
    const herald = await heraldClient(hd);
    await herald.subscribe(hd.sign('private-orders.1'));
    const got = [];
    ch.bind('OrderShipped', (d) => got.push(['OrderShipped', d]));
    pub.bind('Headline', (d) => got.push(['Headline', d]));
    let r = await sdk.trigger('private-orders.1', 'OrderShipped', { id: 7 });
    assert.equal(r.status, 200);
    r = await sdk.triggerBatch([{ channel: 'public-news', name: 'Headline', data: 'extra' },
      { channel: 'private-orders.1', name: 'OrderShipped', data: { id: 8 } }]);
    assert.equal(r.status, 200);
    await until(() => got.length === 3, 5000, 'three events');
    assert.deepEqual(got, [['OrderShipped', { id: 7 }], ['Headline', 'extra'], ['OrderShipped', { id: 8 }]]);
    // A Herald client on the same channel gets the event as JSON.
    await until(() => herald.messages().length === 2, 5000, 'herald client');
    assert.deepEqual(JSON.parse(herald.messages()[0].data), { event: 'OrderShipped', data: '{"id":7}' });
    const chans = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: 'private-' } })).json();
    assert.deepEqual(Object.keys(chans.channels), ['private-orders.1']);
    const info = await (await sdk.get({ path: '/channels/public-news' })).json();
    assert.equal(info.occupied, true);
    // A wrong secret and a stale timestamp are refused, nothing published.
    const bad = new PusherServer({ appId: APP.id, key: APP.key, secret: 'not-the-secret-at-all-xx', host: '127.0.0.1', port: String(hd.emitPort), useTLS: false });
    await assert.rejects(bad.trigger('public-news', 'Headline', 'forged'), (e) => e.status === 401);
    const ts = Math.floor(Date.now() / 1000) - 3600;
    const body = JSON.stringify({ name: 'Headline', channels: ['public-news'], data: 'stale' });
    const md5 = (await import('node:crypto')).createHash('md5').update(body).digest('hex');
    const q = `auth_key=${APP.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5}`;
    const sig = createHmac('sha256', APP.secret).update(`POST\n/apps/${APP.id}/events\n${q}`).digest('hex');
    r = await request({ port: hd.emitPort, method: 'POST', path: `/apps/${APP.id}/events?${q}&auth_signature=${sig}`, body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 401);
    assert.match(r.body, /Timestamp expired/);
    // A timestamp is digits only, even when signed: "<now>x" is refused.
    for (const t of [`${Math.floor(Date.now() / 1000)}x`, '', `+${Math.floor(Date.now() / 1000)}`]) {
      const qt = `auth_key=${APP.key}&auth_timestamp=${t}&auth_version=1.0&body_md5=${md5}`;
      const st = createHmac('sha256', APP.secret).update(`POST\n/apps/${APP.id}/events\n${qt}`).digest('hex');
      r = await request({ port: hd.emitPort, method: 'POST', path: `/apps/${APP.id}/events?${qt}&auth_signature=${st}`, body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 401, `auth_timestamp=${t}`);
    }
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(got.length, 3);
    herald.close();
    p.disconnect();
  });
});

// toOthers(): an event triggered with the socket_id of one connection
// reaches every subscriber but that one, by the HTTP API (trigger and
// batch) and by a Herald emit whose message carries socket_id (what the
// Laravel broadcaster sends through Herald\emit_many()). A socket_id that
// is not Pusher's digits.digits is refused with 400, nothing published.
test('pusher_socket_id_excludes_that_connection_only', async () => {
  const { default: PusherServer } = await import('pusher');
  await withApps(async (hd) => {
    const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(hd.emitPort), useTLS: false });
    const sender = client(hd, { id: 1, name: 'ann' });
    const other = client(hd, { id: 2, name: 'bob' });
    const got = { sender: [], other: [] };
    for (const [who, p] of [['sender', sender], ['other', other]]) {
      const ch = p.subscribe('private-orders.1');
      await subscribed(ch);
      ch.bind('OrderShipped', (d) => got[who].push(d.n));
    }
    const sid = sender.connection.socket_id;
    assert.match(sid, /^\d+\.\d+$/);
    assert.notEqual(sid, other.connection.socket_id);
    let r = await sdk.trigger('private-orders.1', 'OrderShipped', { n: 1 }, { socket_id: sid });
    assert.equal(r.status, 200);
    r = await sdk.triggerBatch([{ channel: 'private-orders.1', name: 'OrderShipped', data: { n: 2 }, socket_id: sid }]);
    assert.equal(r.status, 200);
    await hd.emit('private-orders.1', JSON.stringify({ event: 'OrderShipped', data: { n: 3 }, socket_id: sid }));
    await sdk.trigger('private-orders.1', 'OrderShipped', { n: 4 }); // to everyone: the marker
    await until(() => got.sender.includes(4) && got.other.length === 4, 5000, 'the events');
    assert.deepEqual(got, { sender: [4], other: [1, 2, 3, 4] });
    // Bad socket ids (the SDK checks them itself, so signed by hand): 400,
    // and nothing reaches anyone.
    const { request } = await import('./lib/heraldd.mjs');
    const post = async (path, event) => {
      const body = JSON.stringify(event);
      const md5 = (await import('node:crypto')).createHash('md5').update(body).digest('hex');
      const q = `auth_key=${APP.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0&body_md5=${md5}`;
      const sig = createHmac('sha256', APP.secret).update(`POST\n/apps/${APP.id}/${path}\n${q}`).digest('hex');
      return request({ port: hd.emitPort, method: 'POST', path: `/apps/${APP.id}/${path}?${q}&auth_signature=${sig}`, body, headers: { 'Content-Type': 'application/json' } });
    };
    const ev = { name: 'OrderShipped', channel: 'private-orders.1', data: '{"n":9}' };
    for (const bad of ['abc', '1.', '.1', '1.2.3', '1;2', '-1.2', '1.2 ', '', '1'.repeat(21) + '.1', 12, null]) {
      r = await post('events', { ...ev, socket_id: bad });
      assert.equal(r.status, 400, `socket_id ${JSON.stringify(bad)}`);
      assert.match(r.body, /Invalid socket id/);
      r = await post('batch_events', { batch: [{ ...ev, socket_id: sid }, { ...ev, socket_id: bad }] });
      assert.equal(r.status, 400, `batch socket_id ${JSON.stringify(bad)}`);
    }
    r = await post('events', { ...ev, data: '{"n":0}', socket_id: sid });
    assert.equal(r.status, 200); // the same helper, well-formed: accepted
    // A well-formed id of nobody here excludes nobody.
    await sdk.trigger('private-orders.1', 'OrderShipped', { n: 5 }, { socket_id: '99999999999.1' });
    await until(() => got.sender.length === 2 && got.other.length === 6, 5000, 'the last event');
    assert.deepEqual(got, { sender: [4, 5], other: [1, 2, 3, 4, 0, 5] });
    sender.disconnect();
    other.disconnect();
  });
});

// With redis, the socket_id travels in the message to every node: a
// trigger on node A skips the sender's connection on node B, and only it.
test('pusher_socket_id_excludes_across_nodes_with_redis', async () => {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const { freePort } = await import('./lib/heraldd.mjs');
  const { default: PusherServer } = await import('pusher');
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' });
  const redisExit = new Promise((r) => redis.once('exit', r));
  try {
    await until(() => new Promise((res) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => { s.destroy(); res(/^\+PONG/.test(d.toString())); });
      s.on('error', () => res(false));
    }), 5000, 'redis-server');
    await withApps(async (a) => {
      await withApps(async (b) => {
        for (const n of [a, b]) await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
        const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(a.emitPort), useTLS: false });
        const onA = client(a, { id: 1, name: 'ann' });
        const onB = client(b, { id: 2, name: 'bob' });
        const got = { a: [], b: [] };
        for (const [k, p] of [['a', onA], ['b', onB]]) {
          const ch = p.subscribe('private-orders.2');
          await subscribed(ch);
          ch.bind('OrderShipped', (d) => got[k].push(d.n));
        }
        await sdk.trigger('private-orders.2', 'OrderShipped', { n: 1 }, { socket_id: onB.connection.socket_id });
        await sdk.trigger('private-orders.2', 'OrderShipped', { n: 2 }, { socket_id: onA.connection.socket_id });
        await sdk.trigger('private-orders.2', 'OrderShipped', { n: 3 });
        await until(() => got.a.includes(3) && got.b.includes(3), 5000, 'the events on both nodes');
        assert.deepEqual(got, { a: [1, 3], b: [2, 3] });
        onA.disconnect();
        onB.disconnect();
      }, ['--redis', `redis://127.0.0.1:${port}`]);
    }, ['--redis', `redis://127.0.0.1:${port}`]);
  } finally {
    redis.kill('SIGTERM');
    await redisExit;
  }
});
