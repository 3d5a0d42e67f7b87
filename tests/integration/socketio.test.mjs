// socket.io compatibility: the real socket.io-client 4 (npm) against
// heraldd, on both transports, with the default namespace's events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startHeraldd, until, request, raw } from './lib/heraldd.mjs';

const opts = { args: ['--socketio_channels', 'id*,news', '--ping_interval_ms', '400', '--pong_timeout_ms', '2000'] };

// A connected socket.io client and what it received, per event.
async function sioClient(hd, o = {}) {
  const s = io(`http://127.0.0.1:${hd.port}`, { reconnection: false, ...o });
  const got = [];
  s.onAny((ev, data) => got.push([ev, data]));
  await new Promise((res, rej) => { s.once('connect', res); s.once('connect_error', rej); });
  return { s, got };
}

for (const [name, o, workers] of [['default transports (polling, then upgrade)', {}, 1],
  ['websocket only', { transports: ['websocket'] }, 1],
  ['polling only', { transports: ['polling'] }, 1],
  ['default transports with two loops', {}, 2],
  ['polling only with two loops', { transports: ['polling'] }, 2]]) {
  test(`socketio_${name}: io.sockets.emit semantics, strings and JSON`, async () => {
    const hd = await startHeraldd({ args: [...opts.args, '--workers', String(workers)] });
    try {
      const { s, got } = await sioClient(hd, o);
      if (!o.transports) await until(() => s.io.engine.transport.name === 'websocket', 5000, 'upgrade');
      await hd.emit('id1', 'hello');
      await hd.emit('news', JSON.stringify({ a: [1, 2], b: 'x' }));
      await hd.emit('other', 'not for socket.io clients');
      await hd.emit('id2', 'second');
      await hd.emit('news', 'a\u0000b'); // a NUL is a character like any other
      await until(() => got.length >= 4, 5000, 'four events');
      assert.deepEqual(got, [['id1', 'hello'], ['news', { a: [1, 2], b: 'x' }], ['id2', 'second'], ['news', 'a\u0000b']]);
      // The seed's route reaches it as the 2013 Express route did.
      const r = await request({ port: hd.emitPort, path: '/emit/id1/from%20curl' });
      assert.equal(r.status, 200);
      await until(() => got.length === 5, 5000, 'seed route event');
      assert.deepEqual(got[4], ['id1', 'from curl']);
      // Pings keep it alive past several ping intervals.
      await new Promise((r2) => setTimeout(r2, 1200));
      assert.equal(s.connected, true);
      const st = await hd.stats();
      assert.equal(st.socketio_clients_open, 1);
      s.close();
      await until(async () => (await hd.stats()).socketio_clients_open === 0, 5000, 'session gone');
    } finally { await hd.stop(); }
  });
}

test('socketio_signed_subscription_and_refusal_answer_the_ack', async () => {
  const hd = await startHeraldd(opts);
  try {
    const { s, got } = await sioClient(hd);
    const ok = await s.emitWithAck('subscribe', hd.sign('orders.7'));
    assert.equal(ok.type, 'subscribed');
    assert.equal(ok.channel, 'orders.7');
    const bad = await s.emitWithAck('subscribe', 'orders.8');
    assert.equal(bad.type, 'error');
    assert.equal(bad.code, 'forbidden');
    await hd.emit('orders.8', 'not subscribed');
    await hd.emit('orders.7', 'mine');
    await until(() => got.length >= 1, 5000, 'signed channel event');
    assert.deepEqual(got, [['orders.7', 'mine']]);
    // Browsers never publish: other events are counted and dropped.
    s.emit('orders.7', 'from the browser');
    s.emit('chat', 'hello');
    await until(async () => (await hd.stats()).socketio_events_ignored === 2, 5000, 'ignored events');
    s.close();
  } finally { await hd.stop(); }
});

test('socketio_bad_requests_get_engine_io_errors', async () => {
  const hd = await startHeraldd(opts);
  try {
    const get = (path) => request({ port: hd.port, path });
    let r = await get('/socket.io/?EIO=3&transport=polling');
    assert.equal(r.status, 400);
    assert.match(r.body, /Unsupported protocol version/);
    r = await get('/socket.io/?EIO=4&transport=carrier-pigeon');
    assert.match(r.body, /Transport unknown/);
    r = await get('/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAAA');
    assert.equal(r.status, 400);
    assert.match(r.body, /Session ID unknown/);
    // A real session id, from another address, is refused as unknown.
    r = await get('/socket.io/?EIO=4&transport=polling');
    assert.equal(r.status, 200);
    const sid = JSON.parse(r.body.slice(1)).sid;
    assert.match(sid, /^[A-Za-z0-9_-]{21}$/);
    const other = await request({ port: hd.port, path: `/socket.io/?EIO=4&transport=polling&sid=${sid}`, localAddress: '127.0.0.2' });
    assert.equal(other.status, 400);
    assert.match(other.body, /Session ID unknown/);
    // An oversized POST body is refused by the request limits.
    const big = 'x'.repeat(8192);
    r = await request({ port: hd.port, method: 'POST', path: `/socket.io/?EIO=4&transport=polling&sid=${sid}`, body: big });
    assert.equal(r.status, 413);
    // Malformed packets end the session (and nothing else).
    r = await request({ port: hd.port, method: 'POST', path: `/socket.io/?EIO=4&transport=polling&sid=${sid}`, body: '9garbage' });
    assert.equal(r.status, 200);
    await until(async () => (await hd.stats()).socketio_clients_open === 0, 5000, 'session ended');
    assert.equal((await get('/healthz')).status, 200);
  } finally { await hd.stop(); }
});

test('socketio_client_reconnects_after_a_heraldd_restart', async () => {
  let hd = await startHeraldd(opts);
  const port = hd.port;
  const { spawn } = await import('node:child_process');
  try {
    const s = io(`http://127.0.0.1:${port}`, { reconnectionDelay: 100, reconnectionDelayMax: 300 });
    const got = [];
    s.on('id1', (d) => got.push(d));
    await new Promise((res) => s.once('connect', res));
    await hd.emit('id1', 'before');
    await until(() => got.length === 1, 5000, 'first event');
    // Stop heraldd and start another on the same port: the client comes back.
    const args = hd.proc.spawnargs.slice(1);
    const dir = hd.dir;
    process.kill(hd.proc.pid, 'SIGTERM');
    await hd.proc.exited;
    const again = spawn(hd.proc.spawnfile, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    again.stderr.on('data', (b) => { log += b; });
    try {
      await until(async () => (await request({ port, path: '/healthz' }).catch(() => ({}))).status === 200, 10000, 'restarted');
      await until(() => s.connected, 10000, 'reconnected');
      const r = await request({ socketPath: hd.emitSock, method: 'POST', path: '/emit/id1', body: 'after' });
      assert.equal(r.status, 202);
      await until(() => got.length === 2, 5000, 'event after restart');
      assert.deepEqual(got, ['before', 'after']);
      s.close();
    } finally {
      again.kill('SIGTERM');
      await new Promise((r) => again.once('exit', r));
      assert.doesNotMatch(log, /ERROR: (Address|Leak)Sanitizer|runtime error:/);
    }
    hd = { stop: async () => { (await import('node:fs')).rmSync(dir, { recursive: true, force: true }); } };
  } finally { await hd.stop(); }
});

test('socketio_polling_sessions_count_against_max_connections_per_ip', async () => {
  const hd = await startHeraldd({ args: [...opts.args, '--max_connections_per_ip', '4'] });
  try {
    const open = async () => request({ port: hd.port, path: '/socket.io/?EIO=4&transport=polling' });
    // Each handshake's HTTP connection closes; its session stays, counted
    // (a session is one connection, besides the requests that carry it).
    for (let i = 1; i <= 3; i++) {
      assert.equal((await open()).status, 200);
      await until(async () => (await hd.stats()).public_connections_open === i, 5000, 'the request closed');
    }
    const r = await open();
    assert.equal(r.status, 503);
    assert.match(r.body, /too many connections/);
    // Another address still gets a session.
    const other = await request({ port: hd.port, path: '/socket.io/?EIO=4&transport=polling', localAddress: '127.0.0.3' });
    assert.equal(other.status, 200);
    assert.ok((await hd.stats()).per_ip_refused >= 1);
  } finally { await hd.stop(); }
});
