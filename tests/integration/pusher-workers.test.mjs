// Pusher presence with several event loops (workers = 2): one user's tabs
// on two loops are one member; member_added / member_removed reach the
// presence subscribers of every loop exactly once, at the user's first and
// last connection; subscription_succeeded and the HTTP API list the members
// of every loop. Clients are placed by SO_REUSEPORT: each is kept on the
// loop /stats shows it arrived on, and roles are given out by loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Pusher from 'pusher-js';
import { startHeraldd, until, sleep } from './lib/heraldd.mjs';

const APP = { id: '1001', key: 'herald-key', secret: 'a-secret-of-enough-bytes-0123456789' };

function auth(socketId, channel, channelData) {
  const sig = createHmac('sha256', APP.secret)
    .update(channelData ? `${socketId}:${channel}:${channelData}` : `${socketId}:${channel}`).digest('hex');
  return channelData ? { auth: `${APP.key}:${sig}`, channel_data: channelData } : { auth: `${APP.key}:${sig}` };
}

// A pusher-js client whose user is chosen later (slot.user), once its loop is known.
function pusherClient(hd, slot) {
  return new Pusher(APP.key, {
    cluster: 'mt1', wsHost: '127.0.0.1', wsPort: hd.port, forceTLS: false, enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) => {
        const cd = JSON.stringify({ user_id: slot.user.id, user_info: { name: slot.user.name } });
        cb(null, auth(socketId, channelName, cd));
      },
    },
  });
}

const subscribed = (ch) => new Promise((res, rej) => {
  ch.bind('pusher:subscription_succeeded', res);
  ch.bind('pusher:subscription_error', rej);
});

const wsOnLoops = (s) => s.loops.map((l) => l.ws_connections);

// Pusher clients sorted by the loop they landed on.
function loopPool(hd) {
  const spare = [[], []];
  const all = [];
  let open = 0;
  return {
    all,
    async take(loop) {
      while (spare[loop].length === 0) {
        const before = wsOnLoops(await until(async () => {
          const s = await hd.stats();
          return s.loops.reduce((n, l) => n + l.ws_connections, 0) === open ? s : null;
        }, 5000, 'stable per-loop figures'));
        const slot = { user: null };
        slot.p = pusherClient(hd, slot);
        all.push(slot);
        await new Promise((r) => slot.p.connection.bind('connected', r));
        open++;
        const after = wsOnLoops(await until(async () => {
          const s = await hd.stats();
          return s.loops.reduce((n, l) => n + l.ws_connections, 0) === open ? s : null;
        }, 5000, 'the new client in the per-loop figures'));
        slot.loop = after.findIndex((v, i) => v > before[i]);
        spare[slot.loop].push(slot);
        assert.ok(all.length < 40, 'SO_REUSEPORT never chose loop ' + loop);
      }
      return spare[loop].shift();
    },
    close() { for (const s of all) s.p.disconnect(); },
  };
}

// Join presence-room as user on a client of that loop; record its member events.
async function joinRoom(pool, loop, user) {
  const slot = await pool.take(loop);
  slot.user = user;
  slot.ch = slot.p.subscribe('presence-room');
  slot.events = [];
  slot.ch.bind('pusher:member_added', (m) => slot.events.push(['added', m.id]));
  slot.ch.bind('pusher:member_removed', (m) => slot.events.push(['removed', m.id]));
  await subscribed(slot.ch);
  return slot;
}

const ids = (slot) => Object.keys(slot.ch.members.members).sort();

async function api(hd, path, params = {}) {
  const { default: PusherServer } = await import('pusher');
  const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(hd.emitPort), useTLS: false });
  return (await sdk.get({ path, params })).json();
}

test('workers=2: pusher presence is one member list across loops, events once per loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pw-'));
  const apps = join(dir, 'apps');
  writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}\n`, { mode: 0o600 });
  // handshake_timeout_ms 400: the sweep (and the per-loop figures) every 200 ms
  const hd = await startHeraldd({ args: ['--pusher_apps_file', apps, '--workers', '2', '--handshake_timeout_ms', '400'] });
  const pool = loopPool(hd);
  try {
    const w0 = await joinRoom(pool, 0, { id: 'w0', name: 'watcher 0' });
    const w1 = await joinRoom(pool, 1, { id: 'w1', name: 'watcher 1' });
    assert.deepEqual(ids(w1), ['w0', 'w1'], 'loop 1 lists loop 0\'s member');
    await until(() => w0.events.length === 1, 5000, 'w0 told of w1');
    // ann's first tab, on loop 0: both watchers are told once
    const ann0 = await joinRoom(pool, 0, { id: 'ann', name: 'ann' });
    assert.deepEqual(ids(ann0), ['ann', 'w0', 'w1']);
    assert.equal(ann0.ch.members.count, 3);
    // ann's second tab, on loop 1: the same member, nobody is told
    const ann1 = await joinRoom(pool, 1, { id: 'ann', name: 'ann' });
    assert.deepEqual(ids(ann1), ['ann', 'w0', 'w1']);
    assert.deepEqual(ann1.ch.members.get('ann').info, { name: 'ann' });
    await until(() => w1.events.length === 1, 5000, 'w1 told of ann');
    // the HTTP API (loop 0) counts the members of both loops
    assert.deepEqual((await api(hd, '/channels/presence-room/users')).users.map((u) => u.id).sort(), ['ann', 'w0', 'w1']);
    assert.equal((await api(hd, '/channels/presence-room', { info: 'user_count' })).user_count, 3);
    // ann closes the tab on loop 0: she is still there (loop 1)
    ann0.p.disconnect();
    await until(async () => (await hd.stats()).ws_connections_open === pool.all.length - 1, 5000, 'tab closed');
    await sleep(200);
    assert.equal((await api(hd, '/channels/presence-room')).user_count, 3);
    // and her last, on loop 1: member_removed once on each loop
    ann1.p.disconnect();
    await until(() => w0.events.length === 3 && w1.events.length === 2, 5000, 'ann removed on both loops');
    await sleep(300); // nothing more arrives
    assert.deepEqual(w0.events, [['added', 'w1'], ['added', 'ann'], ['removed', 'ann']]);
    assert.deepEqual(w1.events, [['added', 'ann'], ['removed', 'ann']]);
    assert.deepEqual(ids(w0), ['w0', 'w1']);
    assert.deepEqual(ids(w1), ['w0', 'w1']);
    assert.equal((await api(hd, '/channels/presence-room')).user_count, 2);
    const s = await hd.stats();
    assert.ok(s.loops.every((l) => l.ws_connections > 0), 'clients on both loops: ' + JSON.stringify(s.loops));
  } finally {
    pool.close();
    await hd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// max_presence_members: a new user past it is refused; a known user's
// further tabs still join.
test('pusher presence channel refuses a member past max_presence_members', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pw-'));
  const apps = join(dir, 'apps');
  writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}\n`, { mode: 0o600 });
  const hd = await startHeraldd({ args: ['--pusher_apps_file', apps, '--max_presence_members', '2'] });
  const slots = [];
  const open = (user) => { const slot = { user }; slot.p = pusherClient(hd, slot); slots.push(slot); return slot.p.subscribe('presence-full'); };
  try {
    await subscribed(open({ id: 1, name: 'a' }));
    await subscribed(open({ id: 2, name: 'b' }));
    await assert.rejects(subscribed(open({ id: 3, name: 'c' })), (e) => e.status === 403);
    const again = open({ id: 1, name: 'a' });
    await subscribed(again);
    assert.equal(again.members.count, 2);
  } finally {
    for (const s of slots) s.p.disconnect();
    await hd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// toOthers() across loops: socket ids are unique over every loop, and an
// event triggered with one skips exactly that connection, whichever loop
// it is on and whichever loop takes the HTTP request.
test('workers=2: an event with a socket_id skips that connection only, on either loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pw-'));
  const apps = join(dir, 'apps');
  writeFileSync(apps, `${APP.id}:${APP.key}:${APP.secret}\n`, { mode: 0o600 });
  const hd = await startHeraldd({ args: ['--pusher_apps_file', apps, '--workers', '2', '--handshake_timeout_ms', '400'] });
  const pool = loopPool(hd);
  try {
    const { default: PusherServer } = await import('pusher');
    const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(hd.emitPort), useTLS: false });
    const slots = [];
    for (const loop of [0, 0, 1, 1]) {
      const slot = await pool.take(loop);
      slot.user = { id: `u${slots.length}`, name: 'x' };
      slot.got = [];
      const ch = slot.p.subscribe('presence-orders');
      ch.bind('OrderShipped', (d) => slot.got.push(d.n));
      await subscribed(ch);
      slots.push(slot);
    }
    assert.equal(new Set(slots.map((s) => s.p.connection.socket_id)).size, 4, 'socket ids are unique');
    for (let i = 0; i < 4; i++) {
      await sdk.trigger('presence-orders', 'OrderShipped', { n: i }, { socket_id: slots[i].p.connection.socket_id });
    }
    await sdk.trigger('presence-orders', 'OrderShipped', { n: 9 });
    await until(() => slots.every((s) => s.got.includes(9)), 5000, 'the last event everywhere');
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(slots[i].got, [0, 1, 2, 3, 9].filter((n) => n !== i), `client ${i} (loop ${slots[i].loop})`);
    }
  } finally {
    pool.close();
    await hd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
