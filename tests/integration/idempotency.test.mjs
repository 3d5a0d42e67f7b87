// Emits retried with the same Idempotency-Key (README "Emit API"): the
// repeat answers the first id and publishes nothing, on the single route,
// the seed's GET route and per batch record; keys are per channel, end
// with idempotency_window_ms, and malformed ones are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHeraldd, client, until, sleep } from './lib/heraldd.mjs';

let hd;
before(async () => { hd = await startHeraldd({ args: ['--idempotency_window_ms', '1500', '--idempotency_max_keys', '1000'] }); });
after(async () => { await hd?.stop(); });

const post = (ch, body, key) => hd.emitReq('POST', '/emit/' + ch, body, key ? { 'Idempotency-Key': key } : {});

test('a_retried_emit_with_the_same_key_is_delivered_once', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('idem.a'));
  await c.subscribe(hd.sign('idem.b'));
  const first = await post('idem.a', 'order 17 created', 'order-17:created');
  assert.equal(first.status, 202);
  const a = JSON.parse(first.body);
  assert.deepEqual(Object.keys(a), ['id', 'subscribers']);
  for (let i = 0; i < 3; i++) {
    const again = await post('idem.a', 'order 17 created', 'order-17:created');
    assert.equal(again.status, 202);
    assert.deepEqual(JSON.parse(again.body), { id: a.id, subscribers: 0, repeated: true });
  }
  // the same key on another channel is another emit; no key is never a repeat
  assert.equal(JSON.parse((await post('idem.b', 'b', 'order-17:created')).body).subscribers, 1);
  await post('idem.a', 'no key');
  await post('idem.a', 'no key');
  // the seed's GET route takes the header too
  const g1 = await hd.emitReq('GET', '/emit/idem.a/seed', null, { 'Idempotency-Key': 'g' });
  const g2 = await hd.emitReq('GET', '/emit/idem.a/seed', null, { 'Idempotency-Key': 'g' });
  assert.deepEqual([g1.status, g2.status], [200, 200]);
  await until(() => c.messages().length === 5);
  await sleep(100);
  assert.deepEqual(c.messages().map((m) => `${m.channel}:${m.data}`),
    ['idem.a:order 17 created', 'idem.b:b', 'idem.a:no key', 'idem.a:no key', 'idem.a:seed']);
  assert.equal((await hd.stats()).emits_repeated, 4);
  c.close();
});

test('batch_records_carry_their_own_keys_and_repeats_answer_the_first_ids', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('idem.c'));
  const body = 'idem.c 2 k1\nc1\nidem.c 2\nc2\nidem.c 2 k2\nc3\n';
  const r1 = JSON.parse((await hd.emitReq('POST', '/emit', body)).body);
  assert.equal(r1.ids.length, 3);
  assert.equal(r1.repeated, undefined);
  // a retry of the whole batch: the keyed records are repeats, the other is new
  const r2 = JSON.parse((await hd.emitReq('POST', '/emit', body)).body);
  assert.equal(r2.ids[0], r1.ids[0]);
  assert.equal(r2.ids[2], r1.ids[2]);
  assert.ok(r2.ids[1] > r1.ids[2]);
  assert.deepEqual(r2.subscribers, [0, 1, 0]);
  assert.equal(r2.repeated, 2);
  // a single emit with a batch record's key on the same channel is a repeat too
  assert.equal(JSON.parse((await post('idem.c', 'x', 'k1')).body).id, r1.ids[0]);
  // a key repeated inside one batch: published once
  const r3 = JSON.parse((await hd.emitReq('POST', '/emit', 'idem.c 2 k3\nd1\nidem.c 2 k3\nd2\n')).body);
  assert.equal(r3.ids[0], r3.ids[1]);
  await until(() => c.messages().length === 5);
  await sleep(100);
  assert.deepEqual(c.messages().map((m) => m.data), ['c1', 'c2', 'c3', 'c2', 'd1']);
  c.close();
});

// What the extension sends for emit_many() and defer(): one request key for
// the whole batch (ext/README); a retried batch publishes nothing again,
// records with keys of their own keep them.
test('a_request_key_covers_a_batch_and_its_retry_publishes_nothing', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('idem.h'));
  const body = 'idem.h 2\nh1\nidem.h 2\nh2\nidem.h 2 own\nh3\n';
  const r1 = JSON.parse((await hd.emitReq('POST', '/emit', body, { 'Idempotency-Key': 'batch-1' })).body);
  assert.equal(r1.ids.length, 3);
  const r2 = JSON.parse((await hd.emitReq('POST', '/emit', body, { 'Idempotency-Key': 'batch-1' })).body);
  assert.deepEqual(r2.ids, r1.ids);
  assert.equal(r2.repeated, 3);
  // another request key is another batch
  const r3 = JSON.parse((await hd.emitReq('POST', '/emit', 'idem.h 2\nh4\n', { 'Idempotency-Key': 'batch-2' })).body);
  assert.ok(r3.ids[0] > r1.ids[2]);
  const bad = await hd.emitReq('POST', '/emit', body, { 'Idempotency-Key': 'has space' });
  assert.equal(bad.status, 400);
  await until(() => c.messages().length === 4);
  await sleep(100);
  assert.deepEqual(c.messages().map((m) => m.data), ['h1', 'h2', 'h3', 'h4']);
  c.close();
});

test('a_key_is_forgotten_after_the_window_and_bad_keys_are_refused', async () => {
  const a = JSON.parse((await post('idem.w', 'one', 'w')).body);
  await sleep(1600);
  const b = JSON.parse((await post('idem.w', 'two', 'w')).body);
  assert.ok(b.id > a.id && !b.repeated, 'published again after idempotency_window_ms');
  for (const bad of ['x'.repeat(65), 'a b', 'caf\u00e9']) {
    const r = await hd.emitReq('POST', '/emit/idem.w', 'm', { 'Idempotency-Key': Buffer.from(bad).toString('latin1') });
    assert.equal(r.status, 400, bad);
    assert.match(r.body, /Idempotency-Key must be 1-64 bytes/);
  }
  const bb = await hd.emitReq('POST', '/emit', 'idem.w 1 \nx\n');
  assert.equal(bb.status, 400);
  assert.match(bb.body, /record 0: idempotency key/);
  const st = await hd.stats();
  assert.ok(st.idempotency_keys >= 1 && st.idempotency_keys < 20, JSON.stringify(st.idempotency_keys));
});

// The case: heraldd stalls past the caller's timeout, the caller
// gives up on its request (which heraldd still has, in the socket) and
// retries with the same key once heraldd is back: one message.
test('an_emit_given_up_during_a_stall_then_retried_is_delivered_once', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('idem.s'));
  process.kill(hd.proc.pid, 'SIGSTOP');
  try {
    const s = net.connect(hd.emitSock);
    await new Promise((r) => s.on('connect', r));
    s.write('POST /emit/idem.s HTTP/1.1\r\nHost: localhost\r\nIdempotency-Key: stall-1\r\nContent-Length: 4\r\n\r\nonce');
    await sleep(300); // the caller's timeout: no answer, it gives up
    s.destroy();
  } finally { process.kill(hd.proc.pid, 'SIGCONT'); }
  const retry = await post('idem.s', 'once', 'stall-1');
  assert.equal(retry.status, 202);
  const again = JSON.parse((await post('idem.s', 'once', 'stall-1')).body);
  assert.equal(again.repeated, true);
  assert.equal(again.id, JSON.parse(retry.body).id);
  await until(() => c.messages().length >= 1);
  await sleep(200);
  assert.deepEqual(c.messages().map((m) => m.data), ['once']);
  c.close();
});
