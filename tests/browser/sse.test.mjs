// heraldd's SSE endpoint and resume, from node over raw HTTP and WebSocket:
// the event format, `since` and Last-Event-ID, refusals, CORS, and resume
// racing a stream of concurrent emits (no gap, no duplicate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket } from 'ws';
import { startHeraldd, until, sleep } from './lib.mjs';

let hd;
before(async () => { hd = await startHeraldd({ historySize: 4096 }); });
after(async () => { await hd?.stop(); });

// An SSE reader that takes the body in whatever pieces TCP gives.
function openSse(query, headers = {}) {
  const s = { events: [], comments: 0, status: 0, headers: null, body: '' };
  s.done = new Promise((resolve, reject) => {
    const req = http.get(`${hd.http}/sse?${query}`, { headers, agent: false }, (res) => {
      s.status = res.statusCode;
      s.headers = res.headers;
      res.setEncoding('utf8');
      let buf = '', ev = {};
      res.on('data', (chunk) => {
        s.body += chunk;
        buf += chunk;
        let i;
        while ((i = buf.search(/\r?\n/)) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + (buf[i] === '\r' ? 2 : 1));
          if (line === '') { if (ev.data !== undefined) s.events.push(ev); ev = {}; continue; }
          if (line.startsWith(':')) { s.comments++; continue; }
          const c = line.indexOf(':');
          const k = c < 0 ? line : line.slice(0, c);
          const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          ev[k] = k === 'data' && ev.data !== undefined ? ev.data + '\n' + v : v;
        }
      });
      res.on('end', resolve);
      res.on('error', resolve);
      res.on('close', resolve);
    });
    req.on('error', reject);
    s.close = () => req.destroy();
  });
  s.messages = () => s.events.map((e) => JSON.parse(e.data)).filter((m) => m.type === 'message');
  s.answers = () => s.events.map((e) => JSON.parse(e.data)).filter((m) => m.type === 'subscribed');
  return s;
}
const q = (...chans) => chans.map((c) => 'channel=' + encodeURIComponent(c)).join('&');

test('sse_event_has_channel_colon_id_and_the_ws_message_json', async () => {
  const s = openSse(q(hd.sign('sse.a')));
  await until(() => s.answers().length === 1);
  assert.equal(s.status, 200);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  assert.equal(s.headers['access-control-allow-origin'], '*');
  const { id } = await hd.emit('sse.a', 'hello\nworld');
  await until(() => s.messages().length === 1);
  const [ev] = s.events.filter((e) => e.id);
  assert.equal(ev.id, `sse.a:${id}`);
  assert.deepEqual(JSON.parse(ev.data), { type: 'message', channel: 'sse.a', id, data: 'hello\nworld' });
  s.close();
});

test('sse_opens_with_a_subscribed_event_per_channel', async () => {
  const { id } = await hd.emit('sse.b', 'x');
  const s = openSse(q(hd.sign('sse.b'), hd.sign('sse.c')));
  await until(() => s.answers().length === 2);
  const b = s.answers().find((a) => a.channel === 'sse.b');
  assert.equal(b.last, id);
  assert.ok(s.events.slice(0, 2).every((e) => e.id === undefined));
  s.close();
});

test('sse_since_per_channel_resumes_after_that_id', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await hd.emit('sse.d', 'd' + i)).id);
  const e = (await hd.emit('sse.e', 'e0')).id;
  const s = openSse(q(`${hd.sign('sse.d')},${ids[1]}`, `${hd.sign('sse.e')},${e}`));
  await until(() => s.messages().length >= 3);
  await hd.emit('sse.e', 'e1');
  await until(() => s.messages().length >= 4);
  assert.deepEqual(s.messages().map((m) => m.data), ['d2', 'd3', 'd4', 'e1']);
  assert.deepEqual(s.answers().map((a) => a.resume).sort(), ['ok', 'ok']);
  s.close();
});

test('sse_last_event_id_header_resumes_that_channel', async () => {
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push((await hd.emit('sse.f', 'f' + i)).id);
  const s = openSse(q(hd.sign('sse.f')), { 'Last-Event-ID': `sse.f:${ids[0]}` });
  await until(() => s.messages().length >= 3);
  await sleep(50);
  assert.deepEqual(s.messages().map((m) => m.data), ['f1', 'f2', 'f3']);
  s.close();
});

// A stream on several channels: every event id carries each channel's
// position (README "SSE"), from an id-only event right after the
// subscriptions on; such an id resumes every channel, and one with the
// wrong number of fields is ignored (the URL's positions apply).
test('sse_multi_channel_ids_carry_every_position_and_resume_each_channel', async () => {
  const a0 = (await hd.emit('sse.m1', 'a0')).id;
  const b0 = (await hd.emit('sse.m2', 'b0')).id;
  const s = openSse(q(hd.sign('sse.m1'), hd.sign('sse.m2')));
  await until(() => s.events.length >= 2 && s.body.includes('id: ~'));
  assert.match(s.body, new RegExp(`id: ~${a0}\\.${b0}\n\n`), 'the starting positions');
  const a1 = (await hd.emit('sse.m1', 'a1')).id;
  await until(() => s.messages().length === 1);
  assert.equal(s.events.at(-1).id, `~${a1}.${b0}`);
  s.close();
  await hd.emit('sse.m2', 'b1');
  await hd.emit('sse.m1', 'a2');
  const r = openSse(q(hd.sign('sse.m1'), hd.sign('sse.m2')), { 'Last-Event-ID': `~${a1}.${b0}` });
  await until(() => r.messages().length === 2);
  await sleep(50);
  assert.deepEqual(r.messages().map((m) => m.data).sort(), ['a2', 'b1']);
  assert.deepEqual(r.answers().map((m) => m.resume), ['ok', 'ok']);
  r.close();
  const w = openSse(q(hd.sign('sse.m1') + ',' + a1, hd.sign('sse.m2')), { 'Last-Event-ID': `~${a0}` });
  await until(() => w.messages().length === 1);
  await sleep(50);
  assert.deepEqual(w.messages().map((m) => m.data), ['a2'], 'a one-field id on a two-channel stream is ignored');
  w.close();
});

test('sse_since_older_than_history_says_gap_and_sends_no_history', async () => {
  const small = await startHeraldd({ historySize: 4 });
  try {
    const first = (await small.emit('g', 'g0')).id;
    for (let i = 1; i < 10; i++) await small.emit('g', 'g' + i);
    const res = await new Promise((resolve) => {
      http.get(`${small.http}/sse?${q(small.sign('g') + ',' + first)}`, { agent: false }, (r) => {
        let b = '';
        r.setEncoding('utf8');
        r.on('data', (c) => { b += c; if (b.includes('"subscribed"') && b.includes('\n\n')) { r.destroy(); resolve(b); } });
      });
    });
    assert.match(res, /"resume":"gap"/);
    assert.doesNotMatch(res, /"type":"message"/);
  } finally { await small.stop(); }
});

test('sse_refused_names_answer_403_with_a_reason_and_no_stream', async () => {
  const good = hd.sign('sse.h');
  const forged = good.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  for (const name of [forged, 'sse.h', hd.sign('sse.h', { expiry: 1000 })]) {
    const s = openSse(q(good, name));
    await s.done;
    assert.equal(s.status, 403, name);
    assert.ok(s.body.trim().length > 0, 'a reason');
    assert.equal(s.events.length, 0);
    assert.equal(s.headers['access-control-allow-origin'], '*');
  }
});

test('sse_malformed_queries_are_refused_cleanly', async () => {
  for (const query of ['', 'channel=', `channel=${encodeURIComponent(hd.sign('x'))},notanumber`, 'channel=%ff%fe']) {
    const s = openSse(query);
    await s.done;
    assert.ok(s.status >= 400 && s.status < 500, `${query} -> ${s.status}`);
  }
  // heraldd is still healthy.
  const s = openSse(q(hd.sign('sse.i')));
  await until(() => s.answers().length === 1);
  s.close();
});

// A client that resumes with `since` while another process is emitting must
// get since+1, since+2, … with no hole and no repeat, over WS and SSE.
test('resume_racing_concurrent_emits_has_no_gap_and_no_duplicate', async () => {
  const ch = 'race';
  const N = 400;
  const firstId = (await hd.emit(ch, 'r0')).id;
  let emitting = true, emitted = 1;
  const emitter = (async () => {
    while (emitted < N) { await hd.emit(ch, 'r' + emitted); emitted++; }
    emitting = false;
  })();
  const clients = [];
  for (let k = 0; k < 6; k++) {
    await until(() => emitted > 20 + k * 50 || !emitting);
    const since = firstId + Math.floor(emitted / 2);
    if (k % 2 === 0) {
      const ws = new WebSocket(`ws://127.0.0.1:${hd.port}/ws`);
      const got = [];
      ws.on('message', (b) => { const m = JSON.parse(b.toString()); if (m.type === 'message') got.push(m.id); });
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      ws.send(JSON.stringify({ type: 'subscribe', req: 1, channel: hd.sign(ch), since }));
      clients.push({ since, got, close: () => ws.close() });
    } else {
      const s = openSse(q(`${hd.sign(ch)},${since}`));
      clients.push({ since, get got() { return s.messages().map((m) => m.id); }, close: s.close });
    }
  }
  await emitter;
  const last = firstId + N - 1;
  for (const c of clients) {
    await until(() => c.got.length && c.got[c.got.length - 1] >= last, 10000, 'all messages');
    const want = Array.from({ length: last - c.since }, (_, i) => c.since + 1 + i);
    assert.deepEqual(c.got, want);
    c.close();
  }
});
