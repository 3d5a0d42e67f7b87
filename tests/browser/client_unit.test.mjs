// herald.js's own logic (resume, de-duplication, gaps, errors, dead-connection
// detection, backoff) against a scripted fake heraldd, in node: no browser,
// no daemon, so every branch is driven deterministically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const top = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'herald-client-'));
execFileSync(join(top, 'client/build.sh'), [join(top, 'client/herald.js'), join(dir, 'herald.mjs'), 'module']);
globalThis.WebSocket = WebSocket;
const { default: Herald } = await import(join(dir, 'herald.mjs'));
rmSync(dir, { recursive: true });

// A fake heraldd: records commands, answers subscribe/ping as the test says.
async function fakeServer(onCommand) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await new Promise((r) => wss.once('listening', r));
  const s = { wss, commands: [], sockets: [], url: `ws://127.0.0.1:${wss.address().port}` };
  wss.on('connection', (ws) => {
    s.sockets.push(ws);
    ws.on('message', (b) => {
      const m = JSON.parse(b.toString());
      s.commands.push(m);
      onCommand(ws, m, s);
    });
  });
  s.close = () => new Promise((r) => { for (const w of s.sockets) w.terminate(); wss.close(r); });
  return s;
}
const send = (ws, m) => ws.send(JSON.stringify(m));
const until = async (cond, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + cond);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const fast = { reconnectBaseMs: 10, reconnectMaxMs: 40 };

test('subscribe_sends_signed_name_and_delivers_with_meta', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type !== 'subscribe') return;
    send(ws, { type: 'subscribed', req: m.req, channel: 'orders', last: 100, resume: 'ok' });
    send(ws, { type: 'message', channel: 'orders', id: 101, data: 'hello' });
  });
  const h = Herald.connect(s.url, fast);
  const got = [];
  h.subscribe('orders~v1.0.0.mac', (d, meta) => got.push([d, meta]));
  await until(() => got.length === 1);
  assert.deepEqual(got[0], ['hello', { channel: 'orders', id: 101 }]);
  assert.equal(s.commands[0].channel, 'orders~v1.0.0.mac');
  assert.equal(s.commands[0].since, undefined);
  h.close();
  await s.close();
});

test('json_and_base64_data_are_decoded', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type !== 'subscribe') return;
    send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 1 });
    send(ws, { type: 'message', channel: 'c', id: 2, data: '{"a":[1,2]}' });
    send(ws, { type: 'message', channel: 'c', id: 3, data: '/wA=', encoding: 'base64' });
  });
  const h = Herald.connect(s.url, fast);
  const got = [];
  h.subscribe('c', (d) => got.push(d), { json: true });
  await until(() => got.length === 2);
  assert.deepEqual(got[0], { a: [1, 2] });
  assert.ok(got[1] instanceof Uint8Array);
  assert.deepEqual([...got[1]], [255, 0]);
  h.close();
  await s.close();
});

test('duplicate_and_older_ids_are_never_delivered', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type !== 'subscribe') return;
    send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 10 });
    for (const id of [11, 12, 12, 11, 10, 13]) send(ws, { type: 'message', channel: 'c', id, data: String(id) });
  });
  const h = Herald.connect(s.url, fast);
  const got = [];
  h.subscribe('c', (d) => got.push(d));
  await until(() => got.length >= 3);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, ['11', '12', '13']);
  h.close();
  await s.close();
});

test('reconnect_resumes_each_channel_from_its_last_id', async () => {
  let conns = 0;
  const s = await fakeServer((ws, m, srv) => {
    if (m.type !== 'subscribe') return;
    const ch = m.channel.split('~')[0];
    send(ws, { type: 'subscribed', req: m.req, channel: ch, last: 50, resume: 'ok' });
    if (srv.sockets.length === 1) send(ws, { type: 'message', channel: ch, id: ch === 'a' ? 51 : 52, data: 'x' });
  });
  s.wss.on('connection', () => conns++);
  const h = Herald.connect(s.url, fast);
  const states = [];
  h.on('state', (st) => states.push(st));
  let n = 0;
  h.subscribe('a~sig', () => n++);
  h.subscribe('b~sig', () => n++);
  await until(() => n === 2);
  s.sockets[0].terminate();
  await until(() => s.commands.filter((c) => c.type === 'subscribe').length === 4);
  const again = s.commands.filter((c) => c.type === 'subscribe').slice(2);
  assert.deepEqual(again.map((c) => [c.channel, c.since]).sort(), [['a~sig', 51], ['b~sig', 52]]);
  assert.equal(conns, 2);
  assert.deepEqual(states.slice(0, 3), ['open', 'reconnecting', 'open']);
  h.close();
  assert.equal(h.state, 'closed');
  await s.close();
});

test('subscribed_last_is_the_resume_point_before_any_message', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type === 'subscribe') send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 77 });
  });
  const h = Herald.connect(s.url, fast);
  h.subscribe('c', () => {});
  await until(() => s.commands.length === 1);
  await new Promise((r) => setTimeout(r, 20));
  s.sockets[0].terminate();
  await until(() => s.commands.length === 2);
  assert.equal(s.commands[1].since, 77);
  h.close();
  await s.close();
});

test('resume_gap_is_reported_and_live_messages_follow', async () => {
  const s = await fakeServer((ws, m, srv) => {
    if (m.type !== 'subscribe') return;
    if (srv.sockets.length === 1) {
      send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 5 });
      send(ws, { type: 'message', channel: 'c', id: 6, data: 'six' });
    } else {
      send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 900, resume: 'gap' });
      send(ws, { type: 'message', channel: 'c', id: 901, data: 'live' });
    }
  });
  const h = Herald.connect(s.url, fast);
  const got = [], gaps = [];
  h.on('gap', (g) => gaps.push(g));
  h.subscribe('c', (d) => got.push(d));
  await until(() => got.length === 1);
  s.sockets[0].terminate();
  await until(() => got.length === 2);
  assert.deepEqual(gaps, [{ channel: 'c', since: 6, last: 900 }]);
  assert.deepEqual(got, ['six', 'live']);
  h.close();
  await s.close();
});

test('refused_subscription_reaches_onError_and_error_event_and_is_dropped', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type === 'subscribe') send(ws, { type: 'error', req: m.req, code: 'forbidden', reason: 'bad signature' });
  });
  const h = Herald.connect(s.url, fast);
  const errs = [], evs = [];
  h.on('error', (e) => evs.push(e));
  const sub = h.subscribe('secret~v1.0.0.forged', () => assert.fail('no data expected'), { onError: (e) => errs.push(e) });
  await until(() => errs.length === 1 && evs.length === 1);
  assert.deepEqual(errs[0], { channel: 'secret', code: 'forbidden', reason: 'bad signature' });
  assert.equal(sub.channel, 'secret');
  // A dropped subscription is not re-sent on reconnect.
  s.sockets[0].terminate();
  await until(() => h.state === 'open' && s.sockets.length === 2);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(s.commands.filter((c) => c.type === 'subscribe').length, 1);
  h.close();
  await s.close();
});

test('last_unsubscribe_sends_unsubscribe_and_stops_delivery', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type === 'subscribe') send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 1 });
  });
  const h = Herald.connect(s.url, fast);
  let n1 = 0, n2 = 0;
  const a = h.subscribe('c', () => n1++);
  const b = h.subscribe('c', () => n2++);
  await until(() => s.commands.length === 1);
  a.unsubscribe();
  send(s.sockets[0], { type: 'message', channel: 'c', id: 2, data: 'x' });
  await until(() => n2 === 1);
  assert.equal(n1, 0);
  b.unsubscribe();
  await until(() => s.commands.length === 2);
  assert.deepEqual(s.commands[1], { type: 'unsubscribe', req: s.commands[1].req, channel: 'c' });
  h.close();
  await s.close();
});

test('missing_pong_is_a_dead_connection_and_reconnects', async () => {
  const s = await fakeServer(() => { /* never answers: a black hole */ });
  const h = Herald.connect(s.url, { ...fast, pingIntervalMs: 30, pongTimeoutMs: 60 });
  await until(() => s.sockets.length === 2, 3000);
  assert.ok(s.commands.some((c) => c.type === 'ping' && Number.isInteger(c.req)));
  h.close();
  await s.close();
});

test('answered_pings_keep_the_connection', async () => {
  const s = await fakeServer((ws, m) => { if (m.type === 'ping') send(ws, { type: 'pong', req: m.req }); });
  const h = Herald.connect(s.url, { ...fast, pingIntervalMs: 20, pongTimeoutMs: 40 });
  await until(() => s.commands.length >= 10);
  assert.equal(s.sockets.length, 1);
  h.close();
  await s.close();
});

test('reconnect_delay_is_capped_with_full_jitter', async () => {
  // A server that hangs up at once: every attempt fails before the WebSocket
  // opens. Attempts must keep coming, never further apart than the cap.
  const times = [];
  const srv = net.createServer((c) => { times.push(Date.now()); c.destroy(); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const h = Herald.connect(`ws://127.0.0.1:${srv.address().port}`, { transports: ['ws'], reconnectBaseMs: 5, reconnectMaxMs: 40 });
  const states = [];
  h.on('state', (st) => states.push(st));
  await until(() => times.length >= 8);
  h.close();
  srv.close();
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(Math.max(...gaps) < 40 + 60, `gaps ${gaps}`);
  assert.deepEqual(states, ['reconnecting', 'closed']);
});

test('no_transport_is_an_error_event_not_an_exception', async () => {
  const saved = globalThis.WebSocket;
  globalThis.WebSocket = undefined;
  try {
    const errs = [];
    const h = Herald.connect('ws://127.0.0.1:1');
    h.on('error', (e) => errs.push(e));
    await until(() => errs.length === 1);
    assert.equal(errs[0].code, 'no_transport');
    h.close();
  } finally { globalThis.WebSocket = saved; }
});

test('expiring_calls_getName_and_sends_refresh_with_the_fresh_name', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type === 'subscribe') {
      send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 1 });
      send(ws, { type: 'expiring', channel: 'c', expires: 99 });
    }
    if (m.type === 'refresh') send(ws, { type: 'refreshed', req: m.req, channel: 'c', expires: 199 });
  });
  const asked = [];
  const h = Herald.connect(s.url, { ...fast, getName: async (ch) => { asked.push(ch); return `${ch}~fresh${asked.length}`; } });
  h.subscribe('c~first', () => {});
  await until(() => s.commands.some((c) => c.type === 'refresh'));
  assert.deepEqual(asked, ['c']);
  assert.equal(s.commands.find((c) => c.type === 'refresh').channel, 'c~fresh1');
  h.close();
  await s.close();
});

test('reconnect_asks_getName_before_resubscribing_from_the_last_id', async () => {
  const s = await fakeServer((ws, m, srv) => {
    if (m.type !== 'subscribe') return;
    send(ws, { type: 'subscribed', req: m.req, channel: 'c', last: 10 });
    if (srv.sockets.length === 1) send(ws, { type: 'message', channel: 'c', id: 11, data: 'x' });
  });
  let n = 0;
  // per subscription getName wins over the connect option
  const h = Herald.connect(s.url, { ...fast, getName: async () => assert.fail('the subscription has its own') });
  let got = 0;
  h.subscribe('c~old', () => got++, { getName: async (ch) => `${ch}~new${++n}` });
  await until(() => got === 1);
  s.sockets[0].terminate();
  await until(() => s.commands.filter((c) => c.type === 'subscribe').length === 2);
  const again = s.commands.filter((c) => c.type === 'subscribe')[1];
  assert.deepEqual([again.channel, again.since], ['c~new1', 11]);
  h.close();
  await s.close();
});

test('unsubscribed_expired_resubscribes_with_a_fresh_name_or_is_reported', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type !== 'subscribe') return;
    const ch = m.channel.split('~')[0];
    send(ws, { type: 'subscribed', req: m.req, channel: ch, last: 5 });
    if (m.channel.endsWith('~old')) send(ws, { type: 'unsubscribed', channel: ch, reason: 'expired' });
  });
  const h = Herald.connect(s.url, fast);
  const errs = [];
  h.on('error', (e) => errs.push(e));
  h.subscribe('a~old', () => {}, { getName: async (ch) => `${ch}~new` });
  h.subscribe('b~old', () => {});
  await until(() => s.commands.some((c) => c.channel === 'a~new') && errs.length === 1);
  assert.equal(s.commands.find((c) => c.channel === 'a~new').since, 5);
  assert.deepEqual(errs, [{ channel: 'b', code: 'expired', reason: 'the subscription expired' }]);
  h.close();
  await s.close();
});

test('a_refused_channel_is_warned_once_and_a_refused_refresh_keeps_it', async () => {
  const s = await fakeServer((ws, m) => {
    if (m.type === 'subscribe' && m.channel.startsWith('bad')) send(ws, { type: 'error', req: m.req, code: 'forbidden', reason: 'bad signature' });
    else if (m.type === 'subscribe') {
      send(ws, { type: 'subscribed', req: m.req, channel: 'ok', last: 1 });
      send(ws, { type: 'expiring', channel: 'ok', expires: 9 });
    } else if (m.type === 'refresh') {
      send(ws, { type: 'error', req: m.req, code: 'forbidden', reason: 'bad signature' });
      send(ws, { type: 'message', channel: 'ok', id: 2, data: 'still' });
    }
  });
  const warns = [];
  const saved = console.warn;
  console.warn = (...a) => warns.push(a.join(' '));
  try {
    const h = Herald.connect(s.url, fast);
    const errs = [], got = [];
    h.on('error', (e) => errs.push(e));
    h.subscribe('bad~x', () => {});
    await until(() => errs.length === 1);
    h.subscribe('bad~x', () => {});
    await until(() => errs.length === 2);
    h.subscribe('ok~x', (d) => got.push(d), { getName: async () => 'ok~forged' });
    await until(() => got.length === 1 && errs.length === 3);
    assert.deepEqual(errs[2], { channel: 'ok', code: 'forbidden', reason: 'bad signature' });
    assert.equal(warns.filter((w) => w.includes('bad')).length, 1, warns.join('\n'));
    h.close();
  } finally { console.warn = saved; }
  await s.close();
});

// Several servers (README "Several servers"): a list of URLs.

test('a_list_of_urls_is_shuffled_per_client_so_clients_spread_over_the_nodes', async () => {
  const a = await fakeServer(() => {}), b = await fakeServer(() => {});
  const hs = [];
  for (let i = 0; i < 40; i++) hs.push(Herald.connect([a.url, b.url], fast));
  await until(() => hs.every((h) => h.state === 'open'));
  // 40 clients all on one node: a chance of 2 in 2^40 if the order is random
  assert.equal(a.sockets.length + b.sockets.length, 40);
  assert.ok(a.sockets.length > 0 && b.sockets.length > 0, `a ${a.sockets.length}, b ${b.sockets.length}`);
  for (const h of hs) h.close();
  await a.close();
  await b.close();
  // the single-URL form is a list of one; an empty list is a mistake
  assert.throws(() => Herald.connect([]), /no URL/);
});

test('failures_go_round_every_url_in_one_order_before_repeating_it', async () => {
  // three servers that hang up at once: the attempts visit each once per round
  const hits = [];
  const srvs = await Promise.all([0, 1, 2].map((k) => new Promise((r) => {
    const srv = net.createServer((c) => { hits.push(k); c.destroy(); });
    srv.listen(0, '127.0.0.1', () => r(srv));
  })));
  const h = Herald.connect(srvs.map((s) => `ws://127.0.0.1:${s.address().port}`), { transports: ['ws'], reconnectBaseMs: 5, reconnectMaxMs: 20 });
  await until(() => hits.length >= 9);
  h.close();
  for (const s of srvs) s.close();
  const round = hits.slice(0, 3);
  assert.deepEqual([...round].sort(), [0, 1, 2], `hits ${hits}`);
  assert.deepEqual(hits.slice(3, 9), [...round, ...round], `hits ${hits}`);
});

test('a_node_that_dies_is_left_for_the_next_url_and_each_channel_resumes_there', async () => {
  // each fake node sends one message past the since it is given
  const node = () => fakeServer((ws, m) => {
    if (m.type !== 'subscribe') return;
    const last = m.since ?? 50;
    send(ws, { type: 'subscribed', req: m.req, channel: 'c', last, resume: 'ok' });
    send(ws, { type: 'message', channel: 'c', id: last + 1, data: 'after ' + last });
  });
  const a = await node(), b = await node();
  const h = Herald.connect([a.url, b.url], fast);
  const got = [], gaps = [];
  h.on('gap', (g) => gaps.push(g));
  h.subscribe('c~sig', (d, meta) => got.push(meta.id));
  await until(() => got.length === 1);
  const [first, second] = a.sockets.length ? [a, b] : [b, a];
  assert.equal(second.sockets.length, 0);
  // the node dies (its port refuses from now on): the client moves over
  await first.close();
  await until(() => got.length === 2);
  assert.deepEqual(got, [51, 52]);
  assert.equal(second.commands.find((c) => c.type === 'subscribe').since, 51);
  assert.deepEqual(gaps, []);
  h.close();
  await second.close();
});
