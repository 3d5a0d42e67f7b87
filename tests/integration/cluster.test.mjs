// Several heraldd nodes on one Redis (README "Several servers"): a real
// redis-server on a free loopback port, three nodes, WebSocket clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { createHmac, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { startHeraldd, client, freePort, until, request, raw, sleep, heralddSync } from './lib/heraldd.mjs';
import { startRedis } from './lib/redis.mjs';

// One command to Redis (inline protocol); resolves the raw reply.
function redisCmd(port, line, done = null) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => s.write(line + '\r\n'));
    s.on('data', (d) => {
      out += d;
      const m = /^\$(\d+)\r\n/.exec(out);
      if (done ? done.test(out) : (out[0] !== '$' || (m && out.length >= m[0].length + Number(m[1]) + 2))) { s.destroy(); resolve(out); }
    });
    s.on('error', reject);
  });
}

// Cut one node's connections to Redis (heraldd names them heraldd-PID-*).
async function cutLink(port, pid) {
  const list = await redisCmd(port, 'CLIENT LIST');
  const ids = [...list.matchAll(/id=(\d+) .*name=heraldd-(\d+)-/g)].filter((m) => Number(m[2]) === pid).map((m) => m[1]);
  assert.equal(ids.length, 2, list);
  for (const id of ids) await redisCmd(port, 'CLIENT KILL ID ' + id);
}

const SECRET_ARGS = ['--public_channels', 'pub.*', '--history_size', '50'];
let redis;
const nodes = [];

before(async () => {
  redis = await startRedis();
  for (let i = 0; i < 3; i++) nodes.push(await startHeraldd({ args: ['--redis', redis.url, ...SECRET_ARGS] }));
  for (const n of nodes) await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
});

after(async () => {
  for (const n of nodes) await n.stop();
  await redis.stop();
});

test('an emit to any node reaches subscribers on every node, in order', async () => {
  const subs = [];
  for (const n of nodes) for (let k = 0; k < 2; k++) {
    const c = await client(n);
    const a = await c.subscribe('pub.fan');
    assert.equal(a.type, 'subscribed', JSON.stringify(a));
    subs.push(c);
  }
  const ids = [];
  for (let i = 0; i < 30; i++) ids.push((await nodes[i % 3].emit('pub.fan', 'm' + i)).id);
  for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
  for (const c of subs) {
    await until(() => c.messages().length >= 30, 5000, 'all 30 messages');
    assert.deepEqual(c.messages().map((m) => m.data), ids.map((_, i) => 'm' + i));
    assert.deepEqual(c.messages().map((m) => m.id), ids);
    c.close();
  }
});

test('a node subscribes in Redis only to channels it has subscribers for', async () => {
  const [a, b, c] = nodes;
  const before = (await c.stats()).redis_messages_in;
  const s = await client(a);
  await s.subscribe('pub.only-a');
  await until(async () => (await a.stats()).redis_subscriptions >= 1, 3000, 'a subscribed');
  for (let i = 0; i < 5; i++) await b.emit('pub.only-a', 'x' + i);
  await until(() => s.messages().length === 5, 3000, 'a got 5');
  const sc = await c.stats();
  assert.equal(sc.redis_messages_in, before, 'node c received nothing');
  assert.equal(sc.redis_subscriptions, 0);
  s.close();
  await until(async () => (await a.stats()).redis_subscriptions === 0, 3000, 'a unsubscribed in Redis');
});

test('a client moves from node B to node A with since and gets exactly what it missed', async () => {
  const [a, b] = nodes;
  const c1 = await client(b);
  await c1.subscribe('pub.move');
  for (let i = 0; i < 5; i++) await a.emit('pub.move', 'before' + i);
  await until(() => c1.messages().length === 5, 3000, '5 before');
  const last = c1.messages().at(-1).id;
  c1.close();
  const missed = [];
  for (let i = 0; i < 7; i++) missed.push((await b.emit('pub.move', 'missed' + i)).id);
  const c2 = await client(a); // a has had no subscriber of pub.move: loads from Redis
  const ans = await c2.subscribe('pub.move', { since: last });
  assert.equal(ans.resume, 'ok', JSON.stringify(ans));
  await until(() => c2.messages().length >= 7, 3000, 'replay');
  assert.deepEqual(c2.messages().map((m) => m.id), missed);
  await b.emit('pub.move', 'live');
  await until(() => c2.messages().length === 8, 3000, 'live after replay');
  assert.equal(c2.messages()[7].data, 'live');
  // older than the 50 kept: gap, on a node that never saw the channel
  const c3 = await client(nodes[2]);
  const g = await c3.subscribe('pub.move', { since: missed[0] - 100 });
  assert.equal(g.resume, 'gap', JSON.stringify(g));
  c2.close();
  c3.close();
});

test('a subscriber told the last id resumes with no gap when the first message comes later', async () => {
  const c1 = await client(nodes[0]);
  const ans = await c1.subscribe('pub.fresh');
  c1.close();
  const { id } = await nodes[1].emit('pub.fresh', 'first');
  assert.equal(id, ans.last + 1, 'the first id follows the last one announced');
  const c2 = await client(nodes[2]);
  const r = await c2.subscribe('pub.fresh', { since: ans.last });
  assert.equal(r.resume, 'ok');
  await until(() => c2.messages().length === 1, 3000, 'replayed first');
  c2.close();
});

test('subscribers joining during a stream of emits get every id after their last, once', async () => {
  let stop = false;
  const emitter = (async () => {
    const es = [];
    for (let i = 0; !stop; i++) {
      es.push(nodes[0].emit('pub.race', 'r' + i)); // a few in flight at once
      if (es.length >= 4) await es.shift();
    }
    await Promise.all(es);
  })();
  await sleep(30);
  const joined = [];
  for (let i = 0; i < 6; i++) {
    const c = await client(nodes[1 + (i % 2)]); // nodes 1 and 2 load the channel while it streams
    joined.push({ c, ans: await c.subscribe('pub.race') });
    await sleep(15);
  }
  await sleep(50);
  stop = true;
  await emitter;
  const { id: end } = await nodes[0].emit('pub.race', 'end');
  for (const { c, ans } of joined) {
    await until(() => c.messages().at(-1)?.id === end, 5000, 'the end message');
    const ids = c.messages().map((m) => m.id);
    assert.equal(ids[0], ans.last + 1, 'starts right after the announced last');
    for (let k = 1; k < ids.length; k++) assert.equal(ids[k], ids[k - 1] + 1, 'no gap, no duplicate');
    c.close();
  }
});

test('pipelined emits on one connection are answered in order; a batch is one transaction', async () => {
  const a = nodes[0];
  const s = await client(nodes[1]);
  await s.subscribe('pub.pipe');
  let reqs = '';
  for (let i = 0; i < 5; i++) reqs += `POST /emit/pub.pipe HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\np${i}`;
  reqs += 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const r = await raw({ socketPath: a.emitSock }, reqs);
  const ids = [...r.data.toString().matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(ids.length, 5, r.data.toString());
  for (let i = 1; i < 5; i++) assert.equal(ids[i], ids[i - 1] + 1);
  assert.match(r.data.toString(), /ok\n$/);
  const body = ['pub.pipe 2\nb0\n', 'pub.other 2\nb1\n', 'pub.pipe 2\nb2\n'].join('');
  const br = await a.emitReq('POST', '/emit', body);
  assert.equal(br.status, 202, br.body);
  const bj = JSON.parse(br.body);
  assert.equal(bj.ids.length, 3);
  assert.equal(bj.ids[2], bj.ids[0] + 1);
  assert.equal(bj.ids[0], ids[4] + 1);
  await until(() => s.messages().length === 7, 3000, '7 on pub.pipe');
  assert.deepEqual(s.messages().map((m) => m.data), ['p0', 'p1', 'p2', 'p3', 'p4', 'b0', 'b2']);
  s.close();
});

test('a node killed with SIGKILL: its clients resume on another node and lose nothing', async () => {
  const victim = await startHeraldd({ args: ['--redis', redis.url, ...SECRET_ARGS] });
  await until(async () => (await victim.stats()).redis_link_up === 1, 5000, 'victim link');
  const cs = [];
  for (let i = 0; i < 4; i++) { const c = await client(victim); await c.subscribe('pub.kill'); cs.push(c); }
  const sent = [];
  let stop = false;
  const emitter = (async () => {
    for (let i = 0; !stop; i++) { sent.push((await nodes[0].emit('pub.kill', 'k' + i)).id); await sleep(2); }
  })();
  await until(() => cs.every((c) => c.messages().length >= 10), 3000, 'stream flowing');
  process.kill(victim.proc.pid, 'SIGKILL');
  await Promise.all(cs.map((c) => c.closed));
  const moved = [];
  for (const [i, c] of cs.entries()) {
    const last = c.messages().at(-1).id;
    const m = await client(nodes[1 + (i % 2)]);
    const ans = await m.subscribe('pub.kill', { since: last });
    assert.equal(ans.resume, 'ok');
    moved.push({ before: c.messages().map((x) => x.id), m });
  }
  await sleep(50);
  stop = true;
  await emitter;
  for (const { before: b, m } of moved) {
    await until(() => [...b, ...m.messages().map((x) => x.id)].length >= sent.length, 5000, 'caught up');
    assert.deepEqual([...b, ...m.messages().map((x) => x.id)], sent);
    m.close();
  }
  await victim.stop().catch(() => {});
});

test('a node whose link drops recovers what it missed from history, with no gap', async () => {
  const [a, b] = nodes;
  const s = await client(b);
  await s.subscribe('pub.cut');
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push((await a.emit('pub.cut', 'c' + i)).id);
  await until(() => s.messages().length === 3, 3000, 'first 3');
  const st0 = await b.stats();
  await cutLink(redis.port, b.proc.pid);
  for (let i = 3; i < 8; i++) sent.push((await a.emit('pub.cut', 'c' + i)).id);
  await until(() => s.messages().length === 8, 5000, 'all 8 after the link came back');
  assert.deepEqual(s.messages().map((m) => m.id), sent);
  assert.equal(s.closeCode, null);
  const st = await b.stats();
  assert.ok(st.redis_reconnects > st0.redis_reconnects, JSON.stringify(st));
  assert.ok(st.redis_messages_recovered >= 1, 'some came from history');
  s.close();
});

test('a node with two event loops: every loop\'s subscribers get every message, in order', async () => {
  const w = await startHeraldd({ args: ['--redis', redis.url, '--workers', '2', ...SECRET_ARGS] });
  try {
    await until(async () => (await w.stats()).redis_link_up === 1, 5000, 'link up');
    const cs = [];
    // the kernel spreads connections over the loops: open until both have some
    const both = async () => (await w.stats()).loops.every((l) => l.ws_connections > 0);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 8; i++) { const c = await client(w); await c.subscribe('pub.loops'); cs.push(c); }
      if (await until(both, 2500, 'both loops').catch(() => false)) break;
    }
    assert.ok(await both(), 'subscribers on both loops');
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push((await nodes[i % 3].emit('pub.loops', 'l' + i)).id);
    for (const c of cs) {
      await until(() => c.messages().length === 20, 5000, '20 on every loop');
      assert.deepEqual(c.messages().map((m) => m.id), ids);
      c.close();
    }
  } finally { await w.stop(); }
});

test('SSE subscribers in a cluster get the subscribed event, then messages from other nodes', async () => {
  const [a, b] = nodes;
  const { id: first } = await a.emit('pub.sse', 'old');
  const events = [];
  let body = '';
  const req = http.get(`http://127.0.0.1:${b.port}/sse?channel=${encodeURIComponent('pub.sse,' + (first - 1))}`, { agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d) => {
      body += d;
      let i;
      while ((i = body.indexOf('\n\n')) >= 0) {
        const data = body.slice(0, i).split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data) events.push(JSON.parse(data));
        body = body.slice(i + 2);
      }
    });
  });
  req.on('error', () => {});
  await until(() => events.length >= 2, 3000, 'subscribed and the replayed message');
  assert.equal(events[0].type, 'subscribed');
  assert.equal(events[0].resume, 'ok');
  assert.deepEqual([events[1].type, events[1].id, events[1].data], ['message', first, 'old']);
  const { id } = await a.emit('pub.sse', 'new');
  await until(() => events.length >= 3, 3000, 'live');
  assert.deepEqual([events[2].id, events[2].data], [id, 'new']);
  req.destroy();
});

test('socketio_channels is refused with redis (not silently undelivered)', () => {
  const r = heralddSync(['--check-config', '--emit', 'none', '--redis', redis.url, '--socketio_channels', 'news*']);
  assert.equal(r.code, 2);
  assert.match(r.err, /socketio_channels cannot be combined with redis/);
  const bad = heralddSync(['--check-config', '--emit', 'none', '--redis', 'redis://:hunter2@host:99999']);
  assert.equal(bad.code, 2);
  assert.doesNotMatch(bad.err, /hunter2/);
});

test('scripts flushed from Redis: the emit answers 503, the link reloads them, the next emit works', async () => {
  const [a, b] = nodes;
  const s = await client(b);
  await s.subscribe('pub.flush');
  await a.emit('pub.flush', 'one');
  await redisCmd(redis.port, 'SCRIPT FLUSH');
  const r = await a.emitReq('POST', '/emit/pub.flush', 'lost');
  assert.equal(r.status, 503, r.body);
  await until(async () => (await a.emitReq('POST', '/emit/pub.flush', 'two')).status === 202, 5000, 'emits again');
  await until(() => s.messages().some((m) => m.data === 'two'), 3000, 'two delivered');
  assert.ok(!s.messages().some((m) => m.data === 'lost'), 'a 503 was not published');
  s.close();
});

test('a password, a database number and a Unix socket reach Redis', async () => {
  const dir = nodes[0].dir;
  const sock = dir + '/redis.sock';
  const r2 = await startRedis(undefined, ['--requirepass', 'pw:with@odd']);
  const r3 = await startRedis(undefined, ['--unixsocket', sock, '--unixsocketperm', '700']);
  const n1 = await startHeraldd({ args: ['--redis', `redis://:${encodeURIComponent('pw:with@odd')}@127.0.0.1:${r2.port}/3`, ...SECRET_ARGS] });
  const n2 = await startHeraldd({ args: ['--redis', `unix:${sock}`, ...SECRET_ARGS] });
  const wrong = await startHeraldd({ args: ['--redis', `redis://:nope@127.0.0.1:${r2.port}`, ...SECRET_ARGS] });
  try {
    await until(async () => (await n1.stats()).redis_link_up === 1, 5000, 'n1 link up with the password');
    const c = await client(n1);
    await c.subscribe('pub.auth');
    const { id } = await n1.emit('pub.auth', 'hi');
    await until(() => c.messages().length === 1, 3000, 'delivered');
    assert.equal(c.messages()[0].id, id);
    assert.match(await redisCmd(r2.port, 'AUTH pw:with@odd\r\nSELECT 3\r\nEXISTS herald:{pub.auth}:id', /:\d+\r\n$/), /:1\r\n$/);
    await until(async () => (await n2.stats()).redis_link_up === 1, 5000, 'n2 link up over the Unix socket');
    const u = await client(n2);
    await u.subscribe('pub.unix');
    await n2.emit('pub.unix', 'via unix');
    await until(() => u.messages().length === 1, 3000, 'delivered over unix');
    u.close();
    // a wrong password: never up, emits refused, and the log says why (not the password)
    await sleep(300);
    assert.equal((await wrong.stats()).redis_link_up, 0);
    assert.equal((await wrong.emitReq('POST', '/emit/pub.auth', 'x')).status, 503);
    assert.match(wrong.proc.log, /AUTH|WRONGPASS|invalid/i);
    assert.doesNotMatch(wrong.proc.log, /nope/);
    c.close();
  } finally {
    for (const n of [n1, n2, wrong]) await n.stop();
    await r2.stop();
    await r3.stop();
  }
});

test('the Pusher HTTP API on a cluster node publishes through Redis: every node, cluster ids', async () => {
  const app = { id: '7', key: 'k-cluster', secret: 'a-secret-of-enough-bytes-0123456789' };
  const apps = nodes[0].dir + '/apps';
  writeFileSync(apps, `${app.id}:${app.key}:${app.secret}\n`, { mode: 0o600 });
  const n = await startHeraldd({ args: ['--redis', redis.url, '--pusher_apps_file', apps, ...SECRET_ARGS] });
  const api = async (path, obj) => {
    const body = JSON.stringify(obj);
    const md5 = createHash('md5').update(body).digest('hex');
    const q = `auth_key=${app.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0&body_md5=${md5}`;
    const sig = createHmac('sha256', app.secret).update(`POST\n/apps/${app.id}/${path}\n${q}`).digest('hex');
    return request({ port: n.emitPort, method: 'POST', path: `/apps/${app.id}/${path}?${q}&auth_signature=${sig}`, body, headers: { 'Content-Type': 'application/json' } });
  };
  try {
    await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
    const here = await client(n), there = await client(nodes[1]);
    await here.subscribe('pub.pusher');
    await there.subscribe('pub.pusher');
    await there.subscribe('pub.pusher2');
    const r = await api('events', { name: 'Ev', channels: ['pub.pusher'], data: 'x' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, '{}');
    await until(() => here.messages().length === 1 && there.messages().length === 1, 3000, 'the event on both nodes');
    assert.deepEqual(JSON.parse(there.messages()[0].data), { event: 'Ev', data: 'x' });
    const first = there.messages()[0].id;
    assert.equal(here.messages()[0].id, first);
    // a batch: one transaction; a bad channel name publishes nothing
    const bad = await api('batch_events', { batch: [{ name: 'A', channel: 'pub.pusher', data: '1' }, { name: 'B', channel: 'no spaces', data: '2' }] });
    assert.equal(bad.status, 400, bad.body);
    const ok = await api('batch_events', { batch: [{ name: 'A', channel: 'pub.pusher', data: '1' }, { name: 'B', channel: 'pub.pusher2', data: '2' }] });
    assert.equal(ok.status, 200, ok.body);
    const { id } = await n.emit('pub.pusher', 'via emit');
    await until(() => there.messages().length === 4, 3000, 'batch and emit');
    assert.deepEqual(there.messages().filter((m) => m.channel !== 'pub.pusher2').map((m) => m.id), [first, first + 1, first + 2]);
    assert.equal(id, first + 2);
    here.close();
    there.close();
  } finally { await n.stop(); }
});

test('Redis down: emits answer 503 and subscribers stay; back up: the link returns and the guarantee holds', async () => {
  const [a, b] = nodes;
  const s = await client(b);
  await s.subscribe('pub.outage');
  const first = await a.emit('pub.outage', 'before');
  await until(() => s.messages().length === 1, 3000, 'before');
  await redis.stop();
  await until(async () => (await a.stats()).redis_link_up === 0, 5000, 'link down on a');
  const r = await a.emitReq('POST', '/emit/pub.outage', 'lost');
  assert.equal(r.status, 503, r.body);
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(s.closeCode, null, 'the subscriber stays connected');
  redis = await startRedis(redis.port);
  for (const n of nodes) await until(async () => (await n.stats()).redis_link_up === 1, 10000, 'link back');
  assert.ok((await a.stats()).redis_reconnects >= 1);
  // this Redis kept nothing (no persistence): the subscriber is told to resume, and is told gap
  await until(() => s.closeCode !== null, 5000, 'closed 1012 for a gap');
  assert.equal(s.closeCode, 1012);
  const s2 = await client(b);
  const ans = await s2.subscribe('pub.outage', { since: first.id });
  assert.equal(ans.resume, 'gap');
  const after = await a.emit('pub.outage', 'after');
  assert.equal(after.id, ans.last + 1);
  await until(() => s2.messages().length === 1, 3000, 'after');
  s2.close();
});
