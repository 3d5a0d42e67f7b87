// Pusher presence on a Redis Cluster (README "Presence across nodes" and
// "Redis Cluster"): two heraldd nodes with redis_cluster on a real
// three-master cluster, pusher-js clients on each. A channel's presence
// scripts run on the master serving its slot, and member events travel by
// SPUBLISH on that shard (the nodes only SSUBSCRIBE, so an event sent any
// other way would reach no one): one user on two nodes is one member,
// member_removed comes at the last connection, subscription_succeeded and
// the HTTP API list every node's members for channels on different
// masters, and a node killed with SIGKILL loses its members within
// 2 x presence_node_ttl_ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Pusher from 'pusher-js';
import { WebSocket } from 'ws';
import { startHeraldd, until, request, sleep } from './lib/heraldd.mjs';
import { redis, startCluster, stopCluster, startMaster, ownerOf, channelsOn, slotOf } from './lib/rcluster.mjs';

const APP = { id: '1001', key: 'herald-key', secret: 'a-secret-of-enough-bytes-0123456789' };
const TTL = 1000; // presence_node_ttl_ms: members of a killed node go within 2 x TTL

const dir = mkdtempSync(join(tmpdir(), 'herald-ps-'));
let masters = [], rx;
const nodes = [];
const extra = [];

// Webhook receiver: every event of every correctly signed batch.
async function receiver() {
  const events = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.headers['x-pusher-signature'] === createHmac('sha256', APP.secret).update(body).digest('hex'))
        events.push(...JSON.parse(body).events);
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { events, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => new Promise((r) => server.close(r)) };
}

function auth(socketId, channel, channelData) {
  const sig = createHmac('sha256', APP.secret).update(`${socketId}:${channel}:${channelData}`).digest('hex');
  return { auth: `${APP.key}:${sig}`, channel_data: channelData };
}

// A pusher-js client of node hd as user; join() resolves with the member
// ids of subscription_succeeded; events records member_added / _removed.
function member(hd, user, channel) {
  const p = new Pusher(APP.key, {
    cluster: 'mt1', wsHost: '127.0.0.1', wsPort: hd.port, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) =>
        cb(null, auth(socketId, channelName, JSON.stringify({ user_id: user, user_info: { name: 'n-' + user } }))),
    },
  });
  // view: the members as this client knows them (pusher-js subscribes
  // again by itself after a reconnect: a new list replaces it)
  const m = { p, user, events: [], view: new Set(), joins: 0 };
  m.join = () => new Promise((res, rej) => {
    const ch = p.subscribe(channel);
    ch.bind('pusher:subscription_succeeded', (members) => {
      const ids = [];
      members.each((x) => ids.push(x.id));
      m.view = new Set(ids);
      m.joins++;
      res(ids.sort());
    });
    ch.bind('pusher:subscription_error', rej);
    ch.bind('pusher:member_added', (x) => { m.events.push('+' + x.id); m.view.add(x.id); });
    ch.bind('pusher:member_removed', (x) => { m.events.push('-' + x.id); m.view.delete(x.id); });
  });
  m.sees = (ids) => [...m.view].sort().join() === [...ids].sort().join();
  m.leave = () => p.disconnect();
  return m;
}

// A raw Pusher WebSocket: what pusher-js hides (close codes).
async function rawPusher(hd) {
  const ws = new WebSocket(`ws://127.0.0.1:${hd.port}/app/${APP.key}?protocol=7`);
  const r = { ws, msgs: [], closeCode: null };
  r.closed = new Promise((res) => ws.on('close', (code) => { r.closeCode = code; res(code); }));
  ws.on('message', (buf) => r.msgs.push(JSON.parse(buf.toString())));
  ws.on('error', () => {});
  const hello = await until(() => r.msgs.find((m) => m.event === 'pusher:connection_established'), 5000, 'established');
  r.socketId = JSON.parse(hello.data).socket_id;
  r.join = (user, channel) => {
    const cd = JSON.stringify({ user_id: user, user_info: {} });
    ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel, ...auth(r.socketId, channel, cd) } }));
  };
  return r;
}

// A signed Pusher HTTP API GET on node hd's emit listener.
async function api(hd, path, extraQuery = '') {
  const q = `auth_key=${APP.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0${extraQuery}`;
  const sig = createHmac('sha256', APP.secret).update(`GET\n${path}\n${q}`).digest('hex');
  const r = await request({ port: hd.emitPort, path: `${path}?${q}&auth_signature=${sig}` });
  return { status: r.status, json: r.status === 200 ? JSON.parse(r.body) : null, body: r.body };
}

async function startNode(seed) {
  const n = await startHeraldd({ args: ['--redis-cluster', seed, '--pusher_apps_file', join(dir, 'apps'),
    '--presence_node_ttl_ms', String(TTL)] });
  await until(async () => { const s = await n.stats(); return s.redis_link_up === 1 && s.redis_cluster_masters === 3; }, 10000, 'cluster link up');
  return n;
}

before(async () => {
  masters = await startCluster(dir);
  rx = await receiver();
  writeFileSync(join(dir, 'apps'), `${APP.id}:${APP.key}:${APP.secret}:${rx.url}\n`, { mode: 0o600 });
  nodes.push(await startNode(`127.0.0.1:${masters[0].port}`));
  nodes.push(await startNode(`127.0.0.1:${masters[2].port}`));
});

after(async () => {
  for (const n of [...nodes, ...extra]) await n.stop();
  await stopCluster(masters);
  await rx?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('presence channels on two masters: one member per user across nodes, lists and the HTTP API from either node', async () => {
  const [a, b] = nodes;
  const rooms = [channelsOn(masters, masters[0], 'presence-sa', 1)[0], channelsOn(masters, masters[1], 'presence-sb', 1)[0]];
  assert.notEqual(ownerOf(masters, rooms[0]), ownerOf(masters, rooms[1]));
  const all = [];
  for (const room of rooms) {
    const obs = member(a, 'obs', room);
    assert.deepEqual(await obs.join(), ['obs']);
    const u1b = member(b, 'u1', room);
    assert.deepEqual(await u1b.join(), ['obs', 'u1'], 'subscription_succeeded lists the other node\'s member');
    await until(() => obs.events.length === 1, 3000, 'member_added u1 on node a');
    const u1a = member(a, 'u1', room); // the same user on the other node: no event
    assert.deepEqual(await u1a.join(), ['obs', 'u1']);
    const u2 = member(b, 'u2', room);
    assert.deepEqual(await u2.join(), ['obs', 'u1', 'u2']);
    await until(() => obs.events.length === 2 && u1b.events.length === 1, 3000, 'member_added u2');
    assert.deepEqual(obs.events, ['+u1', '+u2']);
    // the members are on the master serving the channel's slot
    const owner = ownerOf(masters, room);
    assert.deepEqual((await redis(owner.port, ['HKEYS', `herald:{${room}}:pm`])).sort(), ['obs', 'u1', 'u2']);
    for (const n of nodes) {
      const users = await api(n, `/apps/${APP.id}/channels/${room}/users`);
      assert.equal(users.status, 200, users.body);
      assert.deepEqual(users.json.users.map((x) => x.id).sort(), ['obs', 'u1', 'u2']);
      const info = await api(n, `/apps/${APP.id}/channels/${room}`);
      assert.deepEqual(info.json, { occupied: true, subscription_count: 4, user_count: 3 }, info.body);
    }
    all.push({ room, obs, u1a, u1b, u2 });
  }
  // every master's shard channels: both rooms, from either node
  for (const n of nodes) {
    const list = await api(n, `/apps/${APP.id}/channels`);
    assert.equal(list.status, 200, list.body);
    for (const room of rooms) assert.ok(room in list.json.channels, list.body);
    const none = await api(n, `/apps/${APP.id}/channels`, '&filter_by_prefix=private-');
    assert.deepEqual(none.json, { channels: {} }, none.body);
  }
  for (const { obs, u1a, u1b, u2 } of all) {
    u1b.leave(); // u1 still has its connection on node a: no member_removed
    await sleep(200);
    assert.deepEqual(obs.events, ['+u1', '+u2'], 'no member_removed while u1 is still on node a');
    u1a.leave();
    await until(() => obs.events.length === 3, 3000, 'member_removed u1');
    assert.deepEqual(obs.events, ['+u1', '+u2', '-u1']);
    await until(() => u2.events.includes('-u1'), 3000, 'member_removed u1 on node b');
    obs.leave();
    u2.leave();
  }
  for (const { room } of all)
    await until(async () => (await api(a, `/apps/${APP.id}/channels/${room}/users`)).json?.users.length === 0, 3000, 'room empty');
  // webhooks: each member event, and occupied / vacated, once for the cluster
  for (const room of rooms)
    await until(() => rx.events.some((e) => e.name === 'channel_vacated' && e.channel === room), 5000, 'channel_vacated ' + room);
  await sleep(300);
  for (const room of rooms) {
    const ev = rx.events.filter((e) => e.channel === room).map((e) => e.name + (e.user_id ? ' ' + e.user_id : ''));
    for (const x of ['member_added u1', 'member_added u2', 'member_removed u1', 'channel_occupied', 'channel_vacated'])
      assert.equal(ev.filter((e) => e === x).length, 1, `${x} once: ${ev}`);
  }
});

test('a presence channel\'s slot moves to another master: joins follow ASK and MOVED, every view ends right', async () => {
  const [a, b] = nodes;
  const [src, dst, third] = masters;
  const room = channelsOn(masters, src, 'presence-mv', 1)[0];
  const slot = slotOf(`herald:{${room}}:0`);
  const obs = member(a, 'obs', room);
  await obs.join();
  const u1 = member(b, 'u1', room);
  assert.deepEqual(await u1.join(), ['obs', 'u1']);
  await until(() => obs.sees(['obs', 'u1']), 3000, 'member_added u1');
  await redis(dst.port, ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', src.id]);
  await redis(src.port, ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', dst.id]);
  const keys = await redis(src.port, ['CLUSTER', 'GETKEYSINSLOT', slot, 100]);
  assert.ok(keys.includes(`herald:{${room}}:pm`), JSON.stringify(keys));
  assert.equal(await redis(src.port, ['MIGRATE', '127.0.0.1', dst.port, '', 0, 5000, 'KEYS', ...keys]), 'OK');
  // the keys have left: the join script gets ASK, and is sent to dst
  const u2 = member(b, 'u2', room);
  assert.deepEqual(await u2.join(), ['obs', 'u1', 'u2'], 'a join redirected by ASK');
  for (const m of [dst, src, third]) assert.equal(await redis(m.port, ['CLUSTER', 'SETSLOT', slot, 'NODE', dst.id]), 'OK');
  // member_added u2 went out on dst before the nodes subscribed there:
  // Redis's sunsubscribe makes their presence subscribers join again
  const u3 = member(a, 'u3', room); // MOVED, or the map read again
  await u3.join();
  const all = ['obs', 'u1', 'u2', 'u3'];
  await until(() => [obs, u1, u2, u3].every((m) => m.sees(all)), 8000,
    'every view complete: ' + [obs, u1, u2, u3].map((m) => `${m.user}:${[...m.view]}`).join(' '));
  assert.deepEqual((await redis(dst.port, ['HKEYS', `herald:{${room}}:pm`])).sort(), all);
  u1.leave();
  await until(() => [obs, u2, u3].every((m) => m.sees(['obs', 'u2', 'u3'])), 3000, 'member_removed u1 everywhere');
  for (const m of [obs, u2, u3]) m.leave();
});

test(`a node killed with SIGKILL loses its members within 2 x ${TTL} ms`, async () => {
  const k = await startNode(`127.0.0.1:${masters[1].port}`);
  extra.push(k);
  const room = channelsOn(masters, masters[2], 'presence-kill', 1)[0];
  const obs = member(nodes[0], 'watch', room);
  await obs.join();
  const doomed = member(k, 'doomed', room);
  const both = member(k, 'both', room);
  const bothElsewhere = member(nodes[1], 'both', room);
  assert.deepEqual(await doomed.join(), ['doomed', 'watch']);
  await both.join();
  await bothElsewhere.join();
  await until(() => obs.events.length === 2, 3000, 'two members added');
  const t0 = Date.now();
  process.kill(k.proc.pid, 'SIGKILL');
  await until(() => obs.events.includes('-doomed'), 2 * TTL + 2000, 'member_removed of the killed node\'s user');
  const took = Date.now() - t0;
  assert.ok(took <= 2 * TTL + 500, `removed after ${took} ms`);
  await sleep(300);
  assert.deepEqual(obs.events, ['+doomed', '+both', '-doomed'], 'a user still on a live node stays');
  const users = await api(nodes[1], `/apps/${APP.id}/channels/${room}/users`);
  assert.deepEqual(users.json.users.map((x) => x.id).sort(), ['both', 'watch']);
  for (const m of [doomed, both, bothElsewhere, obs]) m.leave();
});

test('a master lost: presence subscribers are closed 4200, subscribes refused 4100, the queries 503, until it is back', async () => {
  const [a, b] = nodes;
  const victim = masters[2];
  const room = channelsOn(masters, victim, 'presence-down', 1)[0];
  const live = await rawPusher(a);
  live.join('r1', room);
  await until(() => live.msgs.find((m) => m.event === 'pusher_internal:subscription_succeeded'), 3000, 'joined');
  process.kill(victim.proc.pid, 'SIGTERM');
  await victim.proc.exited;
  await until(() => live.closeCode !== null, 5000, 'closed: ' + JSON.stringify(live.msgs));
  assert.equal(live.closeCode, 4200);
  const late = await rawPusher(b);
  late.join('r2', room);
  await until(() => late.closeCode !== null, 5000, 'late closed: ' + JSON.stringify(late.msgs));
  assert.equal(late.closeCode, 4100);
  assert.equal(late.msgs.find((m) => m.event === 'pusher:subscription_error')?.data.status, 503, JSON.stringify(late.msgs));
  assert.equal((await api(a, `/apps/${APP.id}/channels/${room}/users`)).status, 503);
  assert.equal((await api(b, `/apps/${APP.id}/channels`)).status, 503, 'a master\'s shard channels are unknown');
  // back (empty: it kept nothing), and presence with it
  victim.proc = await startMaster(dir, victim.port);
  await until(async () => /cluster_state:ok/.test(await redis(victim.port, ['CLUSTER', 'INFO'])), 10000, 'victim back');
  for (const n of nodes) await until(async () => (await n.stats()).redis_link_up === 1, 10000, 'link up again');
  const obs = member(a, 'obs', room);
  assert.deepEqual(await obs.join(), ['obs']);
  const u = member(b, 'u', room);
  assert.deepEqual(await u.join(), ['obs', 'u']);
  await until(() => obs.sees(['obs', 'u']), 3000, 'member_added u');
  assert.equal((await api(b, `/apps/${APP.id}/channels`)).status, 200);
  obs.leave();
  u.leave();
});
