// Idempotency keys across cluster nodes (README "Several servers"): an emit
// retried on another node (a load balancer in front of the emit listeners,
// or an app server that moved) within idempotency_window_ms answers the
// first id and publishes nothing, single emits and batches alike; after the
// window it publishes again. A real redis-server and two heraldd nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHeraldd, client, until, sleep } from './lib/heraldd.mjs';
import { startRedis } from './lib/redis.mjs';

const WINDOW = 1500;
let redis, a, b;

before(async () => {
  redis = await startRedis();
  const args = ['--redis', redis.url, '--public_channels', 'pub.*', '--idempotency_window_ms', String(WINDOW)];
  a = await startHeraldd({ args });
  b = await startHeraldd({ args });
  for (const n of [a, b]) await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.stop();
});

const post = (node, ch, body, key) => node.emitReq('POST', '/emit/' + ch, body, key ? { 'Idempotency-Key': key } : {});
const batch = (node, body, key) => node.emitReq('POST', '/emit', body, key ? { 'Idempotency-Key': key } : {});

// Subscribers on both nodes; an unkeyed marker emitted last tells when
// everything before it has arrived.
async function subscribers(ch) {
  const cs = [await client(a), await client(b)];
  for (const c of cs) assert.equal((await c.subscribe(ch)).type, 'subscribed');
  return {
    async settled() {
      const { id } = await a.emit(ch, 'marker');
      for (const c of cs) await until(() => c.messages().some((m) => m.id === id), 3000, 'the marker');
      return cs.map((c) => c.messages().filter((m) => m.data !== 'marker').map((m) => `${m.id}:${m.data}`));
    },
    close() { for (const c of cs) c.close(); },
  };
}

test('a retry with the same key on another node answers the first id and publishes nothing', async () => {
  const s = await subscribers('pub.idem1');
  const first = await post(a, 'pub.idem1', 'order 17', 'order-17');
  assert.equal(first.status, 202, first.body);
  const f = JSON.parse(first.body);
  assert.deepEqual(Object.keys(f), ['id', 'subscribers']);
  const repeatedBefore = (await b.stats()).emits_repeated;
  for (const node of [b, a, b]) {
    const again = await post(node, 'pub.idem1', 'order 17', 'order-17');
    assert.equal(again.status, 202, again.body);
    assert.deepEqual(JSON.parse(again.body), { id: f.id, subscribers: 0, repeated: true });
  }
  // the seed's GET route takes the header too
  const g = await b.emitReq('GET', '/emit/pub.idem1/order%2017', null, { 'Idempotency-Key': 'order-17' });
  assert.deepEqual([g.status, g.body], [200, '"OK"']);
  // keys are per channel; no key is never a repeat
  const other = JSON.parse((await post(b, 'pub.idem1b', 'x', 'order-17')).body);
  assert.ok(!other.repeated && other.id > 0);
  const got = await s.settled();
  assert.deepEqual(got, [[`${f.id}:order 17`], [`${f.id}:order 17`]], 'delivered once on every node');
  assert.equal((await b.stats()).emits_repeated - repeatedBefore, 3);
  // the key lives in Redis with the channel's hash tag, for the window
  const ttl = await redis.cmd('PTTL', 'herald:{pub.idem1}:k:order-17');
  assert.ok(ttl > 0 && ttl <= WINDOW, `PTTL ${ttl}`);
  s.close();
});

test('after idempotency_window_ms the same key publishes again', async () => {
  const s = await subscribers('pub.idem2');
  const one = JSON.parse((await post(a, 'pub.idem2', 'one', 'w')).body);
  await sleep(WINDOW + 100);
  const two = JSON.parse((await post(b, 'pub.idem2', 'two', 'w')).body);
  assert.ok(two.id > one.id && !two.repeated, JSON.stringify(two));
  const three = JSON.parse((await post(a, 'pub.idem2', 'three', 'w')).body);
  assert.deepEqual(three, { id: two.id, subscribers: 0, repeated: true });
  assert.deepEqual(await s.settled(), [[`${one.id}:one`, `${two.id}:two`], [`${one.id}:one`, `${two.id}:two`]]);
  s.close();
});

test('a batch retried on another node: keyed records are repeats, the others are published', async () => {
  const s = await subscribers('pub.idem3');
  const body = 'pub.idem3 2 k1\nc1\npub.idem3 2\nc2\npub.idem3 2 k2\nc3\n';
  const r1 = JSON.parse((await batch(a, body)).body);
  assert.equal(r1.ids.length, 3);
  assert.equal(r1.repeated, undefined);
  const r2 = JSON.parse((await batch(b, body)).body);
  assert.equal(r2.ids[0], r1.ids[0]);
  assert.equal(r2.ids[2], r1.ids[2]);
  assert.ok(r2.ids[1] > r1.ids[2]);
  assert.deepEqual(r2.subscribers.map((n, i) => i === 1 ? n > 0 : n), [0, true, 0]);
  assert.equal(r2.repeated, 2);
  // a single emit with a batch record's key on the same channel is a repeat
  assert.equal(JSON.parse((await post(b, 'pub.idem3', 'x', 'k1')).body).id, r1.ids[0]);
  // a key repeated inside one batch: published once
  const r3 = JSON.parse((await batch(b, 'pub.idem3 2 k3\nd1\npub.idem3 2 k3\nd2\n')).body);
  assert.equal(r3.ids[0], r3.ids[1]);
  assert.equal(r3.repeated, 1);
  const want = [`${r1.ids[0]}:c1`, `${r1.ids[1]}:c2`, `${r1.ids[2]}:c3`, `${r2.ids[1]}:c2`, `${r3.ids[0]}:d1`];
  assert.deepEqual(await s.settled(), [want, want]);
  s.close();
});

// What the extension sends for emit_many() and defer(): one request key for
// the whole batch; its retry through another node publishes nothing again.
test('a request key covers a batch on every node', async () => {
  const s = await subscribers('pub.idem4');
  const body = 'pub.idem4 2\nh1\npub.idem4 2\nh2\npub.idem4 2 own\nh3\n';
  const r1 = JSON.parse((await batch(a, body, 'batch-1')).body);
  const r2 = JSON.parse((await batch(b, body, 'batch-1')).body);
  assert.deepEqual(r2, { ids: r1.ids, subscribers: [0, 0, 0], repeated: 3 });
  const r3 = JSON.parse((await batch(b, 'pub.idem4 2\nh4\n', 'batch-2')).body);
  assert.ok(r3.ids[0] > r1.ids[2] && !r3.repeated);
  const want = ['h1', 'h2', 'h3'].map((d, i) => `${r1.ids[i]}:${d}`).concat(`${r3.ids[0]}:h4`);
  assert.deepEqual(await s.settled(), [want, want]);
  s.close();
});

test('over-long or malformed keys are refused with 400 on a cluster node, nothing published', async () => {
  const s = await subscribers('pub.idem5');
  for (const bad of ['x'.repeat(65), 'a b']) {
    const r = await post(b, 'pub.idem5', 'm', bad);
    assert.equal(r.status, 400, bad);
    assert.match(r.body, /Idempotency-Key must be 1-64 bytes/);
  }
  const rb = await batch(b, `pub.idem5 1 ${'y'.repeat(65)}\nx\n`);
  assert.equal(rb.status, 400);
  assert.match(rb.body, /record 0: idempotency key/);
  assert.deepEqual(await s.settled(), [[], []]);
  s.close();
});
