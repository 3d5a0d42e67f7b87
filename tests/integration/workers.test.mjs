// workers: several event loops sharing the public port. Subscribers spread
// over the loops; every emit reaches each of them once and in order, even
// with emits from several connections at once and resumes racing emits;
// SIGTERM closes every loop's clients with 1001 and the process exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { startHeraldd, client, until, request, heralddSync } from './lib/heraldd.mjs';

const pub = ['--public_channels', 'w*'];

// Clients until every loop holds some (SO_REUSEPORT hashes each connection).
async function spread(hd, n, channel) {
  const cs = [];
  for (let i = 0; i < n; i++) {
    const c = await client(hd);
    const a = await c.subscribe(channel);
    assert.equal(a.type, 'subscribed');
    cs.push(c);
  }
  return cs;
}

// The per-loop figures of /stats are copied at each sweep tick (<= 1 s).
async function loopStats(hd, pred, what) {
  return until(async () => { const s = await hd.stats(); return pred(s) ? s : null; }, 5000, what);
}

// Every emitter posts its messages one after another; emitters run at once,
// half over the Unix socket and half over TCP, each request on a new connection.
async function emitConcurrently(hd, channels, emitters, perEmitter) {
  const sent = new Map(channels.map((c) => [c, []]));
  await Promise.all(Array.from({ length: emitters }, async (_, e) => {
    for (let i = 0; i < perEmitter; i++) {
      const ch = channels[(e + i) % channels.length];
      const body = `e${e}-${i}`;
      const r = e % 2 ? await request({ port: hd.emitPort, method: 'POST', path: '/emit/' + ch, body })
                      : await request({ socketPath: hd.emitSock, method: 'POST', path: '/emit/' + ch, body });
      assert.equal(r.status, 202, r.body);
      sent.get(ch).push({ id: JSON.parse(r.body).id, data: body });
    }
  }));
  return sent;
}

// Ids on a channel are consecutive: a subscriber's must be exactly the
// emitted ones, ascending, each once.
function assertExactlyInOrder(c, ch, sent) {
  const got = c.messages().filter((m) => m.channel === ch);
  const want = [...sent].sort((a, b) => a.id - b.id);
  assert.deepEqual(got.map((m) => m.id), want.map((m) => m.id), `ids on ${ch}`);
  assert.deepEqual(got.map((m) => m.data), want.map((m) => m.data), `data on ${ch}`);
  for (let i = 1; i < want.length; i++) assert.equal(want[i].id, want[i - 1].id + 1);
}

for (const workers of [2, 1]) {
  test(`workers=${workers}: concurrent emits reach every subscriber once, in order`, async () => {
    const hd = await startHeraldd({ args: [...pub, '--workers', String(workers)] });
    try {
      const chans = ['wa', 'wb'];
      const subs = [...await spread(hd, 12, 'wa'), ...await spread(hd, 12, 'wb')];
      for (const c of subs.slice(0, 6)) assert.equal((await c.subscribe('wb')).type, 'subscribed');
      const s0 = await loopStats(hd, (s) => s.loops.reduce((n, l) => n + l.ws_connections, 0) === 24, '24 ws connections in /stats');
      assert.equal(s0.workers, workers);
      assert.equal(s0.loops.length, workers);
      if (workers > 1) assert.ok(s0.loops.every((l) => l.ws_connections > 0), 'connections on every loop: ' + JSON.stringify(s0.loops));
      const sent = await emitConcurrently(hd, chans, 6, 40);
      const total = (ch) => sent.get(ch).length;
      await until(() => subs.every((c) => c.messages().length >= (subs.indexOf(c) < 6 ? total('wa') + total('wb')
        : subs.indexOf(c) < 12 ? total('wa') : total('wb'))), 10000, 'every message delivered');
      for (let i = 0; i < subs.length; i++) {
        const mine = i < 6 ? chans : i < 12 ? ['wa'] : ['wb'];
        for (const ch of mine) assertExactlyInOrder(subs[i], ch, sent.get(ch));
        assert.equal(subs[i].messages().length, mine.reduce((n, ch) => n + total(ch), 0), 'nothing extra');
      }
      const frames = 6 * (total('wa') + total('wb')) + 6 * total('wa') + 12 * total('wb');
      const s1 = await loopStats(hd, (s) => s.frames_delivered === frames, `frames_delivered = ${frames}`);
      assert.equal(s1.loops.reduce((n, l) => n + l.frames_delivered, 0), frames);
      if (workers > 1) assert.ok(s1.loops.every((l) => l.frames_delivered > 0), 'fan-out on every loop');
      assert.equal(s1.messages_emitted, total('wa') + total('wb'));
      for (const c of subs) c.close();
    } finally { await hd.stop(); }
  });
}

test('workers=2: resumes racing emits get no gap and no duplicate', async () => {
  const hd = await startHeraldd({ args: [...pub, '--workers', '2', '--history_size', '1000'] });
  try {
    const first = [];
    for (let i = 0; i < 20; i++) first.push((await hd.emit('wr', 'm' + i)).id);
    const since = first[9];
    let emitting = true;
    const later = [];
    const emitter = (async () => {
      for (let i = 20; emitting && i < 400; i++) later.push((await hd.emit('wr', 'm' + i)).id);
    })();
    // Subscribe with since while the emitter runs, on whichever loop each lands.
    const resumed = [];
    for (let i = 0; i < 16; i++) {
      const c = await client(hd);
      const a = await c.subscribe('wr', { since });
      assert.equal(a.resume, 'ok');
      resumed.push(c);
    }
    emitting = false;
    await emitter;
    const last = later.length ? later[later.length - 1] : first[first.length - 1];
    assert.ok(later.length > 0, 'the emits raced the resumes');
    await until(() => resumed.every((c) => { const m = c.messages(); return m.length && m[m.length - 1].id === last; }),
      10000, 'every resumed client reached the last id');
    for (const c of resumed) {
      const ids = c.messages().map((m) => m.id);
      assert.equal(ids[0], since + 1);
      for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1, 'consecutive, once each');
    }
    const s = await loopStats(hd, (x) => x.loops.length !== 2 || (x.ws_connections_open === 16 &&
      x.loops.every((l) => l.ws_connections > 0)), 'resumed clients on both loops');
    assert.equal(s.loops.length, 2);
    for (const c of resumed) c.close();
  } finally { await hd.stop(); }
});

test('workers=2: SIGTERM closes the clients of every loop with 1001 and exits 0', async () => {
  const hd = await startHeraldd({ args: [...pub, '--workers', '2'] });
  const cs = await spread(hd, 16, 'ws');
  await loopStats(hd, (s) => s.loops.every((l) => l.ws_connections > 0) && s.ws_connections_open === 16, '16 clients on both loops');
  const t0 = Date.now();
  const exited = await hd.stop();
  assert.equal(exited.code, 0);
  assert.ok(Date.now() - t0 < 4000, 'no wait for shutdown_timeout_ms');
  const codes = await Promise.all(cs.map((c) => c.closed));
  assert.ok(codes.every((c) => c === 1001), 'close codes ' + codes.join(','));
});

// A raw WebSocket upgrade; resolves to the status and the open socket.
function rawUpgrade(hd) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: hd.port, host: '127.0.0.1' });
    let data = '';
    s.setEncoding('latin1');
    s.on('error', reject);
    s.on('connect', () => s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    s.on('data', (c) => {
      data += c;
      if (data.includes('\r\n\r\n')) resolve({ status: Number(data.split(' ')[1]), s });
    });
  });
}

// One address's connections land on both loops (SO_REUSEPORT hashes the
// source port); the limit must hold for their sum, not per loop.
test('workers=2: max_connections_per_ip counts the connections of every loop together', async () => {
  const hd = await startHeraldd({ args: [...pub, '--workers', '2', '--max_connections_per_ip', '6'] });
  const socks = [];
  try {
    const statuses = [];
    for (let i = 0; i < 16; i++) {
      const r = await rawUpgrade(hd);
      statuses.push(r.status);
      socks.push(r.s);
    }
    assert.deepEqual(statuses.slice(0, 6), [101, 101, 101, 101, 101, 101]);
    assert.deepEqual(statuses.slice(6), Array(10).fill(503));
    // (>= 16: the start-up readiness probe is accepted too)
    const s = await loopStats(hd, (x) => x.loops.reduce((n, l) => n + l.connections_accepted, 0) >= 16 &&
      x.per_ip_refused === 10, '16 accepted and 10 refused in the per-loop figures');
    assert.ok(s.loops.every((l) => l.connections_accepted > 0), 'both loops accepted some: ' + JSON.stringify(s.loops));
    assert.equal(s.per_ip_refused, 10);
    assert.equal(s.ws_connections_open, 6);
  } finally {
    for (const x of socks) x.destroy();
    await hd.stop();
  }
});

// An emit is handed only to the loops holding subscribers of its channel
// (per-user channels mostly live on one loop), and again once a loop gains
// one; a loop whose last subscriber left is no longer woken.
test('workers=2: a message is handed over only to loops with subscribers of its channel', async () => {
  const hd = await startHeraldd({ args: [...pub, '--workers', '2'] });
  try {
    const handed = (st) => st.loops.map((l) => l.messages_handed_over);
    // Clients until both loops hold one (SO_REUSEPORT decides), each on its own channel.
    const cs = [];
    let where = null;
    for (let i = 0; i < 40 && !(where && where.includes(0) && where.includes(1)); i++) {
      const before = (await loopStats(hd, (x) => x.ws_connections_open === cs.length, 'stats')).loops.map((l) => l.ws_connections);
      const c = await client(hd);
      const after = await loopStats(hd, (x) => x.ws_connections_open === cs.length + 1 &&
        x.loops.reduce((n, l) => n + l.ws_connections, 0) === cs.length + 1, 'the new client counted on a loop');
      c.loop = after.loops.findIndex((l, k) => l.ws_connections > before[k]);
      assert.equal((await c.subscribe('wh' + i)).type, 'subscribed');
      c.channel = 'wh' + i;
      cs.push(c);
      where = cs.map((x) => x.loop);
    }
    const on0 = cs.find((c) => c.loop === 0), on1 = cs.find((c) => c.loop === 1);
    assert.ok(on0 && on1, 'clients on both loops: ' + where.join(','));
    const s0 = await loopStats(hd, () => true, 'stats');
    for (let i = 0; i < 20; i++) await hd.emit(on0.channel, 'a' + i);   // loop 0's subscriber only
    for (let i = 0; i < 30; i++) await hd.emit(on1.channel, 'b' + i);   // loop 1's subscriber only
    await until(() => on0.messages().length === 20 && on1.messages().length === 30, 5000, 'delivered');
    const s1 = await loopStats(hd, (x) => x.loops[1].messages_handed_over - s0.loops[1].messages_handed_over >= 30, 'handovers counted');
    assert.deepEqual(handed(s1).map((v, i) => v - handed(s0)[i]), [0, 30], 'only loop 1, only for its channel');
    // the subscriber on loop 1 leaves the channel: it is no longer handed over
    assert.equal((await on1.cmd({ type: 'unsubscribe', channel: on1.channel })).type, 'unsubscribed');
    for (let i = 0; i < 10; i++) await hd.emit(on1.channel, 'c' + i);
    // a fence: loop 1 counts this bad command after those emits were handed
    // out, so once /stats shows it, loop 1's copy is later than them
    await on1.cmd({ type: 'bogus' });
    const s2 = await loopStats(hd, (x) => x.protocol_errors.bad_command === 1, 'the fence in loop 1\'s figures');
    assert.equal(s2.loops[1].messages_handed_over, s1.loops[1].messages_handed_over, 'nothing handed to a loop without subscribers');
    assert.equal(on1.messages().length, 30);
    for (const c of cs) c.close();
  } finally { await hd.stop(); }
});

// auto: one loop per CPU, but one on 2 CPUs or fewer, where a second loop
// has no core of its own (bench/RESULTS.md, issue 17).
test('workers: auto is one loop per CPU, one on 2 CPUs or fewer; 0 and words are refused', async () => {
  const hd = await startHeraldd({ args: [...pub, '--workers', 'auto'] });
  try {
    const s = await hd.stats();
    const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
    assert.equal(s.workers, cpus > 2 ? Math.min(cpus, 64) : 1);
    assert.equal(s.loops.length, s.workers);
  } finally { await hd.stop(); }
  for (const bad of ['0', 'many', '65']) {
    const r = heralddSync(['--check-config', '--emit', 'none', '--workers', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /workers/);
  }
});

// Corking: emits streaming in back to back leave in fewer writes than frames
// (several frames per writev per client); a lone emit is not held.
test('a burst of emits is coalesced into fewer socket writes than frames; a lone emit is not held', async () => {
  const hd = await startHeraldd({ args: [...pub, '--workers', '1'] });
  try {
    const subs = await spread(hd, 50, 'wc');
    const N = 200;
    // Corking depends on emits arriving less than 1 ms apart; on a machine
    // busy with other work the client may not keep that pace, so a burst is
    // tried up to five times (with corking off an idle machine stays near
    // 1.6 frames per write every time; under ThreadSanitizer on a loaded
    // machine one burst in three came out at 1.9).
    const tries = [];
    let total = 0;
    let coalesced = false;
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await hd.stats();
      // Four emit connections at once, as a busy PHP pool would.
      await Promise.all([0, 1, 2, 3].map(async (e) => {
        for (let i = e; i < N; i += 4) await hd.emit('wc', `burst${attempt}-${i}`);
      }));
      total += N;
      await until(() => subs.every((c) => c.messages().length === total), 10000, 'burst delivered');
      const after = await hd.stats();
      const frames = after.frames_delivered - before.frames_delivered;
      const writes = after.socket_writes - before.socket_writes - (after.emit_connections_accepted - before.emit_connections_accepted) * 2;
      assert.equal(frames, 50 * N);
      tries.push(`${frames} frames, ~${writes} writes`);
      if (writes * 2 <= frames) { coalesced = true; break; }
    }
    assert.ok(coalesced,
      `at least 2 frames per write on average in one of five bursts: ${tries.join('; ')}`);
    const order = subs[0].messages().map((m) => m.data);
    const want = [];
    for (let a = 0; a < tries.length; a++) for (let i = 0; i < N; i++) want.push(`burst${a}-${i}`);
    assert.deepEqual([...order].sort(), want.sort());
    for (const c of subs) {
      const ids = c.messages().map((m) => m.id);
      for (let i = 1; i < total; i++) assert.equal(ids[i], ids[i - 1] + 1, 'in order, once each');
      assert.deepEqual(c.messages().map((m) => m.data), order, 'the same order for everyone');
    }
    // Quiet for a while, then one emit: delivered without waiting for a cork.
    await new Promise((r) => setTimeout(r, 50));
    const t0 = process.hrtime.bigint();
    await hd.emit('wc', 'alone');
    await until(() => subs.every((c) => c.messages().length === total + 1), 2000, 'lone emit delivered');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 500, `lone emit took ${ms} ms`);
    for (const c of subs) c.close();
  } finally { await hd.stop(); }
});
