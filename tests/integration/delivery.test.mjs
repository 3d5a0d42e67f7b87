// Delivery guarantees (issue 11): a subscriber that keeps up receives any
// message the emit listener accepted, however large; a message that no
// subscriber could receive is refused at emit; every ping gets its pong,
// pongs count in the rate limit; SSE answers carry no req.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import http from 'node:http';
import { startHeraldd, client, rawWs, frame, until, request } from './lib/heraldd.mjs';

// The server frames in a buffer: [{op, payload}], and what is left over.
function frames(buf) {
  const out = [];
  let d = buf;
  while (d.length >= 2) {
    let len = d[1] & 127, off = 2;
    if (len === 126) { if (d.length < 4) break; len = d.readUInt16BE(2); off = 4; }
    else if (len === 127) { if (d.length < 10) break; len = Number(d.readBigUInt64BE(2)); off = 10; }
    if (d.length < off + len) break;
    out.push({ op: d[0] & 15, payload: d.subarray(off, off + len) });
    d = d.subarray(off + len);
  }
  return out;
}

// An SSE stream: its parsed data events (JSON) as they arrive.
function sse(hd, query, headers = {}) {
  const s = { events: [], status: null, closed: false };
  s.req = http.get({ host: '127.0.0.1', port: hd.port, path: '/sse?' + query, headers, agent: false }, (res) => {
    s.status = res.statusCode;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (c) => {
      buf += c;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = ev.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data) s.events.push(JSON.parse(data));
      }
    });
    res.on('end', () => { s.closed = true; });
  });
  s.req.on('error', () => { s.closed = true; });
  s.close = () => s.req.destroy();
  return s;
}

const emitRaw = (hd, ch, body) => request({ socketPath: hd.emitSock, method: 'POST', path: '/emit/' + ch, body });

test('one_mebibyte_text_and_binary_reach_websocket_and_sse_subscribers_with_defaults', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'big'] });
  try {
    const ws = await client(hd);
    await ws.subscribe('big');
    const es = sse(hd, 'channel=big');
    await until(() => es.events.length === 1, 5000, 'SSE subscribed');
    const text = 'a"\\\n'.repeat(1 << 18); // 1 MiB, half of it escaped in JSON
    const bin = randomBytes(1 << 20);      // not UTF-8: base64
    const r1 = await emitRaw(hd, 'big', text);
    const r2 = await emitRaw(hd, 'big', bin);
    assert.equal(r1.status, 202, r1.body);
    assert.equal(r2.status, 202, r2.body);
    assert.equal(JSON.parse(r1.body).subscribers, 2);
    await until(() => ws.messages().length === 2 && es.events.length === 3, 20000, 'both messages on both');
    for (const got of [ws.messages(), es.events.slice(1)]) {
      assert.equal(got[0].data, text);
      assert.equal(got[1].encoding, 'base64');
      assert.ok(Buffer.from(got[1].data, 'base64').equals(bin));
    }
    // A resume replays both and the session goes on.
    const again = await client(hd);
    const sub = await again.subscribe('big', { since: JSON.parse(r1.body).id - 1 });
    assert.equal(sub.resume, 'ok');
    await until(() => again.messages().length === 2, 20000, 'the replay');
    await hd.emit('big', 'after');
    await until(() => again.messages().length === 3 && ws.messages().length === 3);
    assert.equal((await hd.stats()).slow_consumer_disconnects, 0);
    assert.equal(ws.closeCode, null);
    ws.close(); again.close(); es.close();
  } finally { await hd.stop(); }
});

test('the_queue_limit_counts_what_waits_behind_the_frame_being_written', async () => {
  const hd = await startHeraldd({ args: ['--max_queue_bytes', '65536', '--public_channels', 'q'] });
  try {
    const ws = await client(hd);
    await ws.subscribe('q');
    // Two 50 KB messages in one write: the second waits behind the first
    // (50 KB), not behind the first plus itself (100 KB > 64 KiB).
    const body = 'y'.repeat(50000);
    const req = `POST /emit/q HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const s = net.connect(hd.emitSock);
    let got = '';
    s.on('data', (b) => { got += b; });
    await new Promise((r) => s.on('connect', r));
    s.write(req + req);
    await until(() => (got.match(/HTTP\/1\.1 202/g) || []).length === 2);
    await until(() => ws.messages().length === 2, 5000, 'both messages');
    assert.equal(ws.closeCode, null);
    s.destroy();
    ws.close();
  } finally { await hd.stop(); }
});

test('a_message_whose_frame_exceeds_max_queue_bytes_is_refused_413_naming_the_key', async () => {
  const hd = await startHeraldd({ args: ['--max_queue_bytes', '65536', '--public_channels', 'r'] });
  try {
    const ws = await client(hd);
    await ws.subscribe('r');
    const r = await emitRaw(hd, 'r', 'z'.repeat(70000));
    assert.equal(r.status, 413);
    assert.match(r.body, /max_queue_bytes/);
    // 12,000 control bytes escape to 72,000: refused too.
    assert.equal((await emitRaw(hd, 'r', '\u0001'.repeat(12000))).status, 413);
    const g = await request({ socketPath: hd.emitSock, path: '/emit/r/' + 'w'.repeat(100) });
    assert.equal(g.status, 200); // small ones pass
    const batch = `r 1\na\nr 70000\n${'z'.repeat(70000)}\n`;
    const b = await request({ socketPath: hd.emitSock, method: 'POST', path: '/emit', body: batch });
    assert.equal(b.status, 413);
    assert.match(b.body, /^record 1: .*max_queue_bytes/);
    await hd.emit('r', 'last');
    await until(() => ws.messages().length === 2);
    assert.deepEqual(ws.messages().map((m) => m.data), ['w'.repeat(100), 'last']); // nothing of the batch
    ws.close();
  } finally { await hd.stop(); }
});

test('every_ping_gets_its_pong_and_a_flood_is_closed_1008_after_its_pongs', async () => {
  const hd = await startHeraldd();
  try {
    const r = await rawWs(hd);
    let answered = 0;
    for (let i = 0; i < 126; i++) {
      if (r.closed) break;
      const payload = Buffer.alloc(i % 126, i & 255);
      r.s.write(frame(9, payload));
      await until(() => frames(r.data).filter((f) => f.op === 10).length === answered + 1 || r.closed, 3000, `pong ${i}`);
      const pongs = frames(r.data).filter((f) => f.op === 10);
      if (pongs.length === answered + 1) {
        assert.ok(pongs[answered].payload.equals(payload), `pong ${i} echoes its ping`);
        answered++;
      }
    }
    // Every ping sent got its pong, even past the rate limit; the close, if
    // any, came after them.
    assert.equal(answered, 126, `${answered} pongs`);
    r.s.destroy();

    // Pongs nobody asked for draw on the same bucket.
    const p = await rawWs(hd);
    const st0 = await hd.stats();
    for (let i = 0; i < 300 && !p.closed; i++) p.s.write(frame(10, 'x'));
    await until(() => p.closeCode() !== null, 5000, 'close 1008');
    assert.equal(p.closeCode(), 1008);
    assert.ok((await hd.stats()).commands_rate_limited > st0.commands_rate_limited);
    p.s.destroy();
  } finally { await hd.stop(); }
});

test('sse_subscribed_events_carry_no_req', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'news'] });
  try {
    const es = sse(hd, 'channel=news');
    await until(() => es.events.length === 1);
    assert.equal(es.events[0].type, 'subscribed');
    assert.deepEqual(Object.keys(es.events[0]).sort(), ['channel', 'last', 'type']);
    es.close();
    // WebSocket answers keep theirs.
    const ws = await client(hd);
    const a = await ws.subscribe('news');
    assert.equal(typeof a.req, 'number');
    ws.close();
  } finally { await hd.stop(); }
});
