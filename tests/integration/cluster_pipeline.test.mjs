// Pipelined emits on one connection to a node with redis (README "Several
// servers"): the node reads on while earlier emits await Redis, answers
// in request order, and holds at most 32 answers awaited per connection.
// A real redis-server; CLIENT PAUSE WRITE stalls the publishing scripts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHeraldd, client, until, sleep } from './lib/heraldd.mjs';
import { startRedis } from './lib/redis.mjs';

const ARGS = ['--public_channels', 'pub.*', '--history_size', '300'];
let redis;
const nodes = [];

before(async () => {
  redis = await startRedis();
  for (let i = 0; i < 2; i++) nodes.push(await startHeraldd({ args: ['--redis', redis.url, ...ARGS] }));
  for (const n of nodes) await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
});

after(async () => {
  for (const n of nodes) await n.stop();
  await redis.stop();
});

// One emit connection over TCP: write requests, read the answers so far.
function emitConn(hd) {
  const s = net.connect(hd.emitPort, '127.0.0.1');
  const c = { s, data: '', closed: false };
  s.setEncoding('latin1');
  s.on('data', (d) => { c.data += d; });
  s.on('error', () => {});
  s.on('close', () => { c.closed = true; });
  c.ready = new Promise((r) => s.once('connect', r));
  c.statuses = () => [...c.data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  c.ids = () => [...c.data.matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]));
  return c;
}
const emitReq = (ch, body) => `POST /emit/${ch} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

function assertConsecutive(ids, n) {
  assert.equal(ids.length, n, 'answers: ' + ids.length);
  for (let i = 1; i < n; i++) assert.equal(ids[i], ids[i - 1] + 1, 'ids in request order');
}

test('50 emits pipelined on one connection: 50 answers in order, subscribers get all 50 in order', async () => {
  const [a, b] = nodes;
  const subs = [await client(a), await client(b)];
  for (const s of subs) await s.subscribe('pub.pipe50');
  const c = emitConn(a);
  await c.ready;
  let reqs = '';
  for (let i = 0; i < 50; i++) reqs += emitReq('pub.pipe50', 'm' + i);
  reqs += 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'; // answered at once, sent after the 50
  c.s.write(reqs);
  await until(() => c.statuses().length === 51, 5000, '51 answers');
  assert.deepEqual(c.statuses(), [...Array(50).fill(202), 200]);
  assertConsecutive(c.ids(), 50);
  assert.match(c.data, /ok\n$/);
  for (const s of subs) {
    await until(() => s.messages().length === 50, 5000, 'all 50 delivered');
    assert.deepEqual(s.messages().map((m) => m.data), Array.from({ length: 50 }, (_, i) => 'm' + i));
    assert.deepEqual(s.messages().map((m) => m.id), c.ids());
    s.close();
  }
  assert.equal((await a.stats()).emit_answers_awaited, 0);
  c.s.destroy();
});

test('at most 32 answers awaited per connection: the node stops reading, then answers all in order', async () => {
  const a = nodes[0];
  const sub = await client(nodes[1]);
  await sub.subscribe('pub.bound');
  const c = emitConn(a);
  await c.ready;
  await redis.cmd('CLIENT', 'PAUSE', '2500', 'WRITE'); // the publishing script waits
  try {
    let reqs = '';
    for (let i = 0; i < 80; i++) reqs += emitReq('pub.bound', 'b' + i);
    c.s.write(reqs);
    await until(async () => (await a.stats()).emit_answers_awaited === 32, 2000, '32 awaited');
    await sleep(150);
    assert.equal((await a.stats()).emit_answers_awaited, 32, 'no more than 32 read');
    assert.equal(c.statuses().length, 0, 'nothing answered while Redis waits');
  } finally {
    await redis.cmd('CLIENT', 'UNPAUSE');
  }
  await until(() => c.statuses().length === 80, 5000, '80 answers');
  assert.ok(c.statuses().every((s) => s === 202), c.data.slice(0, 300));
  assertConsecutive(c.ids(), 80);
  await until(() => sub.messages().length === 80, 5000, 'all 80 delivered');
  assert.deepEqual(sub.messages().map((m) => m.id), c.ids());
  assert.equal((await a.stats()).emit_answers_awaited, 0);
  sub.close();
  c.s.destroy();
});

test('a connection closed mid-pipeline: nothing breaks, what was published is delivered in order', async () => {
  const a = nodes[0];
  const sub = await client(nodes[1]);
  await sub.subscribe('pub.cut');
  const base = (await a.stats()).emit_connections_open; // the /stats request's own
  const c = emitConn(a);
  await c.ready;
  await redis.cmd('CLIENT', 'PAUSE', '2500', 'WRITE');
  try {
    let reqs = '';
    for (let i = 0; i < 20; i++) reqs += emitReq('pub.cut', 'c' + i);
    reqs += 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';
    c.s.write(reqs);
    await until(async () => (await a.stats()).emit_answers_awaited === 21, 2000, '21 awaited');
    c.s.destroy(); // gone before any answer
    await until(async () => (await a.stats()).emit_connections_open === base, 2000, 'connection closed');
    assert.equal((await a.stats()).emit_answers_awaited, 0);
  } finally {
    await redis.cmd('CLIENT', 'UNPAUSE');
  }
  await until(() => sub.messages().length === 20, 5000, 'the 20 published are delivered');
  assert.deepEqual(sub.messages().map((m) => m.data), Array.from({ length: 20 }, (_, i) => 'c' + i));
  // the node goes on: a new connection emits and is answered
  // (compared with the 20th: 'after' itself may have arrived by now)
  const r = await a.emit('pub.cut', 'after');
  assert.equal(r.id, sub.messages()[19].id + 1);
  sub.close();
});

test('a request refused at once keeps its place behind the pipelined emits', async () => {
  const a = nodes[0];
  const c = emitConn(a);
  await c.ready;
  await redis.cmd('CLIENT', 'PAUSE', '2500', 'WRITE');
  try {
    let reqs = '';
    for (let i = 0; i < 3; i++) reqs += emitReq('pub.order', 'o' + i);
    reqs += 'POST /emit/bad%20name HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx'; // refused at once
    reqs += emitReq('pub.order', 'o3');
    c.s.write(reqs);
    await until(async () => (await a.stats()).emit_answers_awaited === 5, 2000, '5 awaited');
    assert.equal(c.statuses().length, 0);
  } finally {
    await redis.cmd('CLIENT', 'UNPAUSE');
  }
  await until(() => c.statuses().length === 5, 5000, '5 answers');
  const st = c.statuses();
  assert.deepEqual(st.filter((_, i) => i !== 3), [202, 202, 202, 202]);
  assert.ok(st[3] >= 400 && st[3] < 500, 'the refused one in its place: ' + st[3]);
  assertConsecutive(c.ids(), 4);
  c.s.destroy();
});

test('100 Continue behind an awaited answer comes after it, not before', async () => {
  const a = nodes[0];
  const c = emitConn(a);
  await c.ready;
  await redis.cmd('CLIENT', 'PAUSE', '2500', 'WRITE');
  try {
    c.s.write(emitReq('pub.cont', 'first') +
      'POST /emit/pub.cont HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n');
    await until(async () => (await a.stats()).emit_answers_awaited === 2, 2000, 'the answer and the 100 wait');
    assert.equal(c.data, '', 'no 100 Continue before the first answer');
  } finally {
    await redis.cmd('CLIENT', 'UNPAUSE');
  }
  await until(() => /100 Continue/.test(c.data), 5000, '100 Continue');
  assert.match(c.data, /^HTTP\/1\.1 202 [^]*"id":\d+[^]*HTTP\/1\.1 100 Continue\r\n\r\n$/);
  c.s.write('second');
  await until(() => c.statuses().length === 3, 5000, 'the second answer');
  assert.deepEqual(c.statuses(), [202, 100, 202]);
  assertConsecutive(c.ids(), 2);
  c.s.destroy();
});
