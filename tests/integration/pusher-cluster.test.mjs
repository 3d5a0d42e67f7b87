// Pusher presence across nodes (README "Several servers"): three heraldd
// nodes on one real redis-server, pusher-js clients on each. One user on
// two nodes is one member; member_added / member_removed reach every
// node's subscribers at the user's first and last connection anywhere;
// subscription_succeeded and the HTTP API list every node's members; a
// webhook per member event, and channel_occupied / channel_vacated, is sent
// once for the cluster; a node killed
// with SIGKILL loses its members within 2 x presence_node_ttl_ms; the
// member limit holds cluster-wide; with Redis gone a presence subscribe is
// refused rather than answered with a member list that may be wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import Pusher from 'pusher-js';
import { WebSocket } from 'ws';
import { startHeraldd, freePort, until, request, sleep } from './lib/heraldd.mjs';

const APP = { id: '1001', key: 'herald-key', secret: 'a-secret-of-enough-bytes-0123456789' };
const TTL = 1000; // presence_node_ttl_ms: members of a killed node go within 2 x TTL
const ROOM = 'presence-room';

async function startRedis() {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'ignore', 'ignore'] });
  proc.exited = new Promise((r) => proc.once('exit', r));
  await until(() => new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { s.destroy(); res(/^\+PONG/.test(d.toString())); });
    s.on('error', () => res(false));
  }), 5000, 'redis-server');
  return {
    port, url: `redis://127.0.0.1:${port}`,
    async stop() { if (proc.exitCode === null && proc.signalCode === null) { process.kill(proc.pid, 'SIGTERM'); await proc.exited; } },
  };
}

// Webhook receiver: every event of every signed batch.
async function receiver() {
  const events = [];
  let bad = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.headers['x-pusher-signature'] !== createHmac('sha256', APP.secret).update(body).digest('hex')) bad++;
      else events.push(...JSON.parse(body).events);
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { events, bad: () => bad, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => new Promise((r) => server.close(r)) };
}

function auth(socketId, channel, channelData) {
  const sig = createHmac('sha256', APP.secret).update(`${socketId}:${channel}:${channelData}`).digest('hex');
  return { auth: `${APP.key}:${sig}`, channel_data: channelData };
}

// A pusher-js client of node hd as user; join() resolves with the members
// of subscription_succeeded; events records member_added / member_removed.
function member(hd, user, channel = ROOM) {
  const p = new Pusher(APP.key, {
    cluster: 'mt1', wsHost: '127.0.0.1', wsPort: hd.port, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) =>
        cb(null, auth(socketId, channelName, JSON.stringify({ user_id: user, user_info: { name: 'n-' + user } }))),
    },
  });
  // view: the members as this client knows them; odd: an event its view
  // contradicts (an added member it had, a removed one it had not)
  const m = { p, user, events: [], view: new Set(), odd: [] };
  m.join = () => new Promise((res, rej) => {
    const ch = p.subscribe(channel);
    ch.bind('pusher:subscription_succeeded', (members) => {
      const ids = [];
      members.each((x) => ids.push(x.id));
      m.view = new Set(ids);
      res(ids.sort());
    });
    ch.bind('pusher:subscription_error', rej);
    ch.bind('pusher:member_added', (x) => {
      m.events.push('+' + x.id);
      if (m.view.has(x.id)) m.odd.push('+' + x.id);
      m.view.add(x.id);
    });
    ch.bind('pusher:member_removed', (x) => {
      m.events.push('-' + x.id);
      if (!m.view.has(x.id)) m.odd.push('-' + x.id);
      m.view.delete(x.id);
    });
  });
  m.leave = () => p.disconnect();
  return m;
}

// One inline command to Redis; its reply line.
function redisCmd(port, line) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => s.write(line + '\r\n'));
    s.on('data', (d) => { s.destroy(); resolve(d.toString().trim()); });
    s.on('error', reject);
  });
}

// A signed Pusher HTTP API GET on node hd's emit listener.
async function api(hd, path, extra = '') {
  const q = `auth_key=${APP.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0${extra}`;
  const sig = createHmac('sha256', APP.secret).update(`GET\n${path}\n${q}`).digest('hex');
  const r = await request({ port: hd.emitPort, path: `${path}?${q}&auth_signature=${sig}` });
  return { status: r.status, json: r.status === 200 ? JSON.parse(r.body) : null, body: r.body };
}

// A raw Pusher WebSocket: what pusher-js hides (close codes).
async function rawPusher(hd) {
  const ws = new WebSocket(`ws://127.0.0.1:${hd.port}/app/${APP.key}?protocol=7`);
  const r = { ws, msgs: [], closeCode: null };
  r.closed = new Promise((res) => ws.on('close', (code) => { r.closeCode = code; res(code); }));
  ws.on('message', (b) => r.msgs.push(JSON.parse(b.toString())));
  ws.on('error', () => {});
  const hello = await until(() => r.msgs.find((m) => m.event === 'pusher:connection_established'), 5000, 'established');
  r.socketId = JSON.parse(hello.data).socket_id;
  r.join = (user, channel = ROOM) => {
    const cd = JSON.stringify({ user_id: user, user_info: {} });
    ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel, ...auth(r.socketId, channel, cd) } }));
  };
  return r;
}

let redis, rx, dir;
const nodes = [];
const extra = [];

async function startNode(args = []) {
  return startHeraldd({ args: ['--redis', redis.url, '--pusher_apps_file', join(dir, 'apps'), '--presence_node_ttl_ms', String(TTL),
    '--max_presence_members', '4', ...args] });
}

before(async () => {
  redis = await startRedis();
  rx = await receiver();
  dir = mkdtempSync(join(tmpdir(), 'herald-pc-'));
  writeFileSync(join(dir, 'apps'), `${APP.id}:${APP.key}:${APP.secret}:${rx.url}\n`, { mode: 0o600 });
  for (let i = 0; i < 3; i++) nodes.push(await startNode());
  for (const n of nodes) await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
});

after(async () => {
  for (const n of [...nodes, ...extra]) await n.stop();
  await redis.stop();
  await rx.close();
  rmSync(dir, { recursive: true, force: true });
});

test('one user on two nodes is one member; member events reach every node once', async () => {
  const [a, b, c] = nodes;
  const obs = member(c, 'obs');
  assert.deepEqual(await obs.join(), ['obs']);
  const u1a = member(a, 'u1');
  assert.deepEqual(await u1a.join(), ['obs', 'u1'], 'subscription_succeeded lists the other node\'s member');
  await until(() => obs.events.length === 1, 3000, 'member_added u1 on node c');
  const u1b = member(b, 'u1'); // the same user on another node: no event
  assert.deepEqual(await u1b.join(), ['obs', 'u1']);
  const u2 = member(b, 'u2');
  assert.deepEqual(await u2.join(), ['obs', 'u1', 'u2'], 'members of every node');
  await until(() => obs.events.length === 2 && u1a.events.length === 1, 3000, 'member_added u2 on nodes a and c');
  assert.deepEqual(obs.events, ['+u1', '+u2']);
  assert.deepEqual(u1a.events, ['+u2']);
  // the event sequence never expires under members (it would restart under joined clients)
  assert.equal(await redisCmd(redis.port, `PTTL herald:{${ROOM}}:ps`), ':-1');

  // the HTTP API of any node answers for the cluster
  for (const n of nodes) {
    const users = await api(n, `/apps/${APP.id}/channels/${ROOM}/users`);
    assert.equal(users.status, 200, users.body);
    assert.deepEqual(users.json.users.map((x) => x.id).sort(), ['obs', 'u1', 'u2']);
    const info = await api(n, `/apps/${APP.id}/channels/${ROOM}`);
    assert.deepEqual(info.json, { occupied: true, subscription_count: 4, user_count: 3 });
    const list = await api(n, `/apps/${APP.id}/channels`);
    assert.ok(ROOM in list.json.channels, list.body);
    const none = await api(n, `/apps/${APP.id}/channels`, '&filter_by_prefix=private-');
    assert.deepEqual(none.json, { channels: {} }, none.body);
  }

  u1a.leave(); // u1 still has its connection on node b: no member_removed
  const u3 = member(a, 'u3');
  await u3.join();
  await until(() => obs.events.length === 3, 3000, 'member_added u3');
  assert.deepEqual(obs.events, ['+u1', '+u2', '+u3'], 'no member_removed while u1 is still on node b');
  u1b.leave();
  await until(() => obs.events.length === 4, 3000, 'member_removed u1');
  assert.deepEqual(obs.events.slice(3), ['-u1']);
  await until(() => u2.events.includes('-u1'), 3000, 'member_removed u1 on node b');

  // webhooks: each member event once for the whole cluster
  await until(() => rx.events.filter((e) => e.name === 'member_removed' && e.user_id === 'u1').length >= 1, 5000, 'webhook');
  await sleep(300);
  const hooks = (name, user) => rx.events.filter((e) => e.name === name && e.channel === ROOM && e.user_id === user).length;
  assert.equal(hooks('member_added', 'u1'), 1, JSON.stringify(rx.events));
  assert.equal(hooks('member_added', 'u2'), 1);
  assert.equal(hooks('member_removed', 'u1'), 1);
  assert.equal(rx.bad(), 0);
  for (const m of [obs, u2, u3]) m.leave();
  await until(async () => (await api(a, `/apps/${APP.id}/channels/${ROOM}/users`)).json.users.length === 0, 3000, 'room empty');
  assert.ok(Number((await redisCmd(redis.port, `PTTL herald:{${ROOM}}:ps`)).slice(1)) > 0, 'expires once empty');
  // occupied when the first node got a subscriber, vacated when the last one lost its last
  await until(() => rx.events.some((e) => e.name === 'channel_vacated' && e.channel === ROOM), 5000, 'channel_vacated');
  await sleep(300);
  const occ = rx.events.filter((e) => e.channel === ROOM && e.name.startsWith('channel_')).map((e) => e.name);
  assert.deepEqual(occ, ['channel_occupied', 'channel_vacated'], 'once for the cluster, not once per node');
});

test('users joining and leaving at once on every node: every view ends right, no event twice', async () => {
  const ms = [];
  for (let i = 0; i < 12; i++) ms.push(member(nodes[i % 3], 'c' + (i % 4), 'presence-race')); // each user on 3 nodes
  try {
    await Promise.all(ms.map((m) => m.join()));
    const all = ['c0', 'c1', 'c2', 'c3'];
    await until(() => ms.every((m) => m.view.size === all.length), 3000, 'every view complete');
    for (const m of ms) {
      assert.deepEqual([...m.view].sort(), all);
      assert.deepEqual(m.odd, [], `${m.user}: ${m.events}`);
    }
    const stay = ms[0];
    for (const m of ms) if (m.user !== stay.user) m.leave();
    await until(() => stay.view.size === 1, 3000, 'every other user removed');
    assert.deepEqual(stay.odd, [], String(stay.events));
    assert.equal(stay.events.filter((e) => e.startsWith('-')).length, all.length - 1, 'one member_removed per user');
  } finally {
    for (const m of ms) m.leave();
  }
});

test('max_presence_members holds for the cluster', async () => {
  const ms = [];
  for (let i = 0; i < 4; i++) {
    const m = member(nodes[i % 3], 'f' + i, 'presence-full');
    await m.join();
    ms.push(m);
  }
  const late = member(nodes[1], 'f9', 'presence-full');
  await assert.rejects(late.join(), (e) => e.status === 403);
  const again = member(nodes[2], 'f0', 'presence-full'); // a member's further tab still joins
  assert.equal((await again.join()).length, 4);
  for (const m of [...ms, late, again]) m.leave();
});

test('a node with two event loops: each join is answered on its own loop, one member per user', async () => {
  const w = await startNode(['--workers', '2']);
  extra.push(w);
  await until(async () => (await w.stats()).redis_link_up === 1, 5000, 'link up');
  const obs = member(nodes[0], 'lw', 'presence-loops');
  await obs.join();
  const ms = [];
  for (let i = 0; i < 6; i++) {
    const m = member(w, 'w' + (i % 3), 'presence-loops'); // each user twice, spread by SO_REUSEPORT
    const ids = await m.join();
    assert.ok(ids.includes('w' + (i % 3)) && ids.includes('lw'), JSON.stringify(ids));
    ms.push(m);
  }
  await until(() => obs.events.length === 3, 3000, 'three members added');
  const loops = (await w.stats()).loops.map((l) => l.ws_connections);
  assert.equal(loops.length, 2);
  for (const m of ms.slice(0, 3)) m.leave();
  await sleep(200);
  assert.deepEqual(obs.events.sort(), ['+w0', '+w1', '+w2'], 'every user still has a connection');
  for (const m of ms.slice(3)) m.leave();
  await until(() => obs.events.length === 6, 3000, 'three members removed');
  obs.leave();
});

test(`a node killed with SIGKILL loses its members within 2 x ${TTL} ms`, async () => {
  const k = await startNode();
  extra.push(k);
  await until(async () => (await k.stats()).redis_link_up === 1, 5000, 'link up');
  const obs = member(nodes[0], 'watch', 'presence-kill');
  await obs.join();
  const lonely = member(k, 'alone', 'presence-lonely'); // a channel only the doomed node has
  await lonely.join();
  await until(() => rx.events.some((e) => e.name === 'channel_occupied' && e.channel === 'presence-lonely'), 3000, 'occupied');
  const doomed = member(k, 'doomed', 'presence-kill');
  const both = member(k, 'both', 'presence-kill');
  const bothElsewhere = member(nodes[1], 'both', 'presence-kill');
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
  const users = await api(nodes[2], `/apps/${APP.id}/channels/presence-kill/users`);
  assert.deepEqual(users.json.users.map((x) => x.id).sort(), ['both', 'watch']);
  await until(() => rx.events.some((e) => e.name === 'member_removed' && e.user_id === 'doomed'), 3000, 'webhook');
  assert.equal(rx.events.filter((e) => e.name === 'member_removed' && e.user_id === 'doomed').length, 1);
  await until(() => rx.events.some((e) => e.name === 'channel_vacated' && e.channel === 'presence-lonely'), 3000, 'the sweep vacates');
  assert.ok(!rx.events.some((e) => e.name === 'channel_vacated' && e.channel === 'presence-kill'), 'other nodes still have subscribers');
  lonely.leave();
  doomed.leave();
  both.leave();
  bothElsewhere.leave();
  obs.leave();
});

// A node new to a channel takes its messages only once it has the
// channel's state from Redis; subscription_succeeded must not come before
// that, or a client that triggers (or is told to expect) a message right
// after it misses it. Redis paused: the answer waits; a trigger on
// another node right after it arrives.
test('subscription_succeeded on a node new to the channel waits for Redis; what follows it arrives', async () => {
  const [a, b] = nodes;
  const { default: PusherServer } = await import('pusher');
  const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(a.emitPort), useTLS: false });
  const r = await rawPusher(b);
  const channel = 'private-late-' + Date.now();
  const sig = createHmac('sha256', APP.secret).update(`${r.socketId}:${channel}`).digest('hex');
  const succeeded = () => r.msgs.find((m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === channel);
  assert.equal(await redisCmd(redis.port, 'CLIENT PAUSE 700 ALL'), '+OK');
  r.ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel, auth: `${APP.key}:${sig}` } }));
  await sleep(300);
  assert.equal(succeeded(), undefined, 'answered while Redis was paused: ' + JSON.stringify(r.msgs));
  await until(succeeded, 5000, 'subscription_succeeded after the pause');
  await sdk.trigger(channel, 'Shipped', { n: 1 });
  await until(() => r.msgs.find((m) => m.event === 'Shipped'), 5000, 'the event after subscription_succeeded: ' + JSON.stringify(r.msgs));
  assert.equal(r.msgs.filter((m) => m.event === 'pusher_internal:subscription_succeeded').length, 1);
  r.ws.close();
});

test('with Redis gone, presence subscribers are closed 4200 and a subscribe is refused 4100', async () => {
  const [a] = nodes;
  const live = await rawPusher(a);
  live.join('r1', 'presence-down');
  await until(() => live.msgs.find((m) => m.event === 'pusher_internal:subscription_succeeded'), 3000, 'joined');
  await redis.stop();
  await until(async () => (await a.stats()).redis_link_up === 0, 5000, 'link down');
  await until(() => live.closeCode !== null, 5000, 'closed: ' + JSON.stringify(live.msgs));
  assert.equal(live.closeCode, 4200);
  const late = await rawPusher(a);
  late.join('r2', 'presence-down');
  await until(() => late.closeCode !== null, 5000, 'late closed: ' + JSON.stringify(late.msgs));
  assert.equal(late.closeCode, 4100);
  const err = late.msgs.find((m) => m.event === 'pusher:subscription_error');
  assert.equal(err.data.status, 503, JSON.stringify(late.msgs));
  assert.ok(!late.msgs.some((m) => m.event === 'pusher_internal:subscription_succeeded'));
  const users = await api(a, `/apps/${APP.id}/channels/presence-down/users`);
  assert.equal(users.status, 503);
});
