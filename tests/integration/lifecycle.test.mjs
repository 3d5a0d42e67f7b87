// heraldd's connection life cycle: slow consumers dropped with 1013 while
// others keep receiving, server pings and pong timeouts, SSE streams,
// max_connections, and graceful shutdown (1001, SSE ended, exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startHeraldd, client, rawWs, frame, until, sleep, request } from './lib/heraldd.mjs';

test('slow_consumer_is_dropped_with_1013_and_others_keep_receiving', async () => {
  const hd = await startHeraldd({ args: ['--max_queue_bytes', '65536'] });
  try {
    const good = await client(hd);
    await good.subscribe(hd.sign('flood'));
    const slow = await rawWs(hd);
    slow.s.write(frame(1, JSON.stringify({ type: 'subscribe', req: 1, channel: hd.sign('flood') })));
    await until(() => slow.data.includes('"subscribed"'));
    slow.s.pause(); // never reads again until the end
    const big = 'x'.repeat(60000);
    const N = 150;
    let lastSubs = 2;
    for (let i = 0; i < N; i++) lastSubs = (await hd.emit('flood', big + i)).subscribers;
    assert.equal(lastSubs, 1, 'the slow client no longer counts as a subscriber');
    await until(() => good.messages().length === N, 20000, 'good client gets everything');
    assert.equal((await hd.stats()).slow_consumer_disconnects, 1);
    slow.s.resume();
    await until(() => slow.closed, 10000, 'slow client disconnected');
    const code = slow.closeCode();
    assert.equal(code, 1013, 'the close frame follows the frames already on their way');
    good.close();
  } finally { await hd.stop(); }
});

test('server_pings_and_drops_clients_that_do_not_answer', async () => {
  const hd = await startHeraldd({ args: ['--ping_interval_ms', '100', '--pong_timeout_ms', '200'] });
  try {
    const alive = await client(hd); // the ws package answers pings itself
    const mute = await rawWs(hd);
    await until(() => mute.data.length >= 2 && mute.data[0] === 0x89, 3000, 'a server ping');
    await until(() => mute.closed, 3000, 'mute client dropped');
    await sleep(400);
    assert.equal(alive.ws.readyState, 1);
    assert.ok((await hd.stats()).ping_timeouts >= 1);
    alive.close();
  } finally { await hd.stop(); }
});

function sse(hd, query, headers = {}) {
  const s = { status: 0, headers: null, body: '' };
  s.done = new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: hd.port, path: '/sse?' + query, headers, agent: false }, (res) => {
      s.status = res.statusCode;
      s.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (c) => { s.body += c; });
      res.on('close', resolve);
    });
    req.on('error', resolve);
    s.close = () => req.destroy();
  });
  return s;
}

test('sse_streams_events_with_ids_and_heartbeats', async () => {
  const hd = await startHeraldd({ args: ['--sse_heartbeat_ms', '100', '--public_channels', 'open.*'] });
  try {
    const s = sse(hd, 'channel=' + encodeURIComponent(hd.sign('feed')) + '&channel=open.a');
    await until(() => (s.body.match(/"subscribed"/g) || []).length === 2);
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    assert.equal(s.headers['cache-control'], 'no-cache');
    assert.equal(s.headers['x-accel-buffering'], 'no');
    assert.equal(s.headers['access-control-allow-origin'], '*');
    const { id } = await hd.emit('feed', 'a\nb');
    // two channels: the id carries both positions (README "SSE")
    await until(() => new RegExp(`id: ~${id}\\.\\d+\n`).test(s.body));
    assert.ok(s.body.includes(`data: {"type":"message","channel":"feed","id":${id},"data":"a\\nb"}\n\n`));
    await until(() => s.body.includes(': hb\n\n'), 3000, 'heartbeat');
    const bad = sse(hd, 'channel=feed');
    await bad.done;
    assert.equal(bad.status, 403);
    s.close();
  } finally { await hd.stop(); }
});

test('max_connections_refuses_the_extra_connection', async () => {
  const hd = await startHeraldd({ args: ['--max_connections', '3'] });
  try {
    const a = await client(hd), b = await client(hd), c = await client(hd);
    const extra = net.connect(hd.port, '127.0.0.1');
    const closed = new Promise((r) => extra.on('close', r));
    extra.on('error', () => {});
    await closed;
    // browsers do not take the emit side's connections
    assert.equal((await hd.stats()).connections_refused, 1);
    await hd.emit('any', 'still emitting');
    a.close(); b.close(); c.close();
    await until(async () => (await request({ port: hd.port, path: '/healthz' }).catch(() => ({}))).status === 200);
  } finally { await hd.stop(); }
});

test('sigterm_closes_websockets_with_1001_ends_sse_and_exits_0', async () => {
  const hd = await startHeraldd({ args: ['--shutdown_timeout_ms', '3000'] });
  const c = await client(hd);
  await c.subscribe(hd.sign('bye'));
  const s = sse(hd, 'channel=' + encodeURIComponent(hd.sign('bye')));
  await until(() => s.body.includes('"subscribed"'));
  const t0 = Date.now();
  const exit = hd.stop();
  assert.equal(await c.closed, 1001);
  await s.done;
  const { code, signal } = await exit;
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 3000, 'exited promptly');
});

test('shutdown_timeout_bounds_exit_when_a_client_never_reads', async () => {
  const hd = await startHeraldd({ args: ['--shutdown_timeout_ms', '500'] });
  const r = await rawWs(hd); // never answers the close
  r.s.pause();
  const t0 = Date.now();
  const { code } = await hd.stop();
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 4000);
  r.s.destroy();
});
