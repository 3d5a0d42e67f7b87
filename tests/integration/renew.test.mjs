// Names that expire under an open connection (README "Name expiry and
// renewal"): the expiring notice ahead of time, refresh with a fresh name
// without a gap, unsubscribed with reason expired or revoked, and the SSE
// stream that ends at its first name's expiry with a last event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { startHeraldd, client, until, sign, request } from './lib/heraldd.mjs';

const nowS = () => Math.floor(Date.now() / 1000);

test('expiring_notice_then_unsubscribed_expired_and_nothing_after', async () => {
  // The sweep runs once a second: a notice 2 s ahead comes at least ~1 s
  // before the expiry, so a loaded machine cannot push it past it.
  const hd = await startHeraldd({ args: ['--expiring_notice_ms', '2000'] });
  try {
    const c = await client(hd);
    const exp = nowS() + 4;
    assert.equal((await c.subscribe(hd.sign('short', { expiry: exp }))).type, 'subscribed');
    assert.equal((await c.subscribe(hd.sign('long', { expiry: exp + 600 }))).type, 'subscribed');
    const notice = await until(() => c.msgs.find((m) => m.type === 'expiring'), 6000, 'expiring');
    assert.deepEqual(notice, { type: 'expiring', channel: 'short', expires: exp });
    assert.ok(Date.now() < exp * 1000, 'the notice comes before the expiry');
    await hd.emit('short', 'before');
    const end = await until(() => c.msgs.find((m) => m.type === 'unsubscribed'), 6000, 'unsubscribed');
    assert.deepEqual(end, { type: 'unsubscribed', channel: 'short', reason: 'expired' });
    assert.ok(Date.now() >= exp * 1000, 'not before the expiry');
    await hd.emit('short', 'after');
    await hd.emit('long', 'still');
    await until(() => c.messages().some((m) => m.data === 'still'));
    assert.deepEqual(c.messages().map((m) => m.data), ['before', 'still']);
    assert.equal(c.msgs.filter((m) => m.type === 'expiring').length, 1, 'one notice, for the short name only');
    const st = await hd.stats();
    assert.equal(st.subscriptions_expired, 1);
    assert.equal(st.subscriptions, 1);
    assert.match(hd.proc.log, /subscription to short expired/);
    c.close();
  } finally { await hd.stop(); }
});

test('refresh_keeps_the_subscription_past_the_old_expiry_without_a_gap', async () => {
  const hd = await startHeraldd({ args: ['--expiring_notice_ms', '60000'] });
  try {
    const c = await client(hd);
    const exp = nowS() + 2;
    assert.equal((await c.subscribe(hd.sign('orders', { expiry: exp }))).type, 'subscribed');
    await hd.emit('orders', 'm1');
    // refused names leave the subscription as it was
    const forged = await c.cmd({ type: 'refresh', channel: sign('x'.repeat(32), 'orders', { expiry: exp + 60 }) });
    assert.equal(forged.code, 'forbidden');
    const other = await c.cmd({ type: 'refresh', channel: hd.sign('elsewhere', { expiry: exp + 60 }) });
    assert.equal(other.code, 'not_subscribed');
    const old = await c.cmd({ type: 'refresh', channel: hd.sign('orders', { expiry: nowS() - 1 }) });
    assert.equal(old.code, 'expired');
    const r = await c.cmd({ type: 'refresh', channel: hd.sign('orders', { expiry: exp + 60 }) });
    assert.deepEqual(r, { type: 'refreshed', req: r.req, channel: 'orders', expires: exp + 60 });
    await hd.emit('orders', 'm2');
    // past the first name's expiry (and a sweep after it) the subscription goes on
    await until(() => Date.now() > exp * 1000 + 1500, 5000);
    await hd.emit('orders', 'm3');
    await until(() => c.messages().length === 3);
    const ids = c.messages().map((m) => m.id);
    assert.deepEqual(c.messages().map((m) => m.data), ['m1', 'm2', 'm3']);
    assert.deepEqual(ids, [ids[0], ids[0] + 1, ids[0] + 2]);
    assert.ok(!c.msgs.some((m) => m.type === 'unsubscribed'));
    const st = await hd.stats();
    assert.equal(st.subscriptions_refreshed, 1);
    assert.equal(st.subscribe_refused.forbidden, 1);
    assert.equal(st.subscribe_refused.not_subscribed, 1);
    assert.equal(st.subscribe_refused.expired, 1);
    assert.equal(st.protocol_errors.bad_command, 0, 'refusals are not bad commands');
    assert.match(hd.proc.log, /subscription refused: forbidden/);
    const m = (await request({ socketPath: hd.emitSock, path: '/metrics' })).body;
    assert.match(m, /herald_subscribe_refused_total\{loop="0",code="forbidden"\} 1/);
    c.close();
  } finally { await hd.stop(); }
});

test('reload_that_removes_a_key_ends_its_subscriptions_as_revoked', async () => {
  const A = 'secret-A-0123456789abcdefghij', B = 'secret-B-0123456789abcdefghij';
  const hd = await startHeraldd();
  const file = hd.secretFile;
  try {
    writeFileSync(file, `a:${A}\nb:${B}\n`, { mode: 0o600 });
    hd.proc.kill('SIGHUP');
    await until(async () => (await hd.stats()).reloads === 1);
    const c = await client(hd);
    assert.equal((await c.subscribe(sign(A, 'x', { kid: 'a' }))).type, 'subscribed');
    assert.equal((await c.subscribe(sign(B, 'y', { kid: 'b' }))).type, 'subscribed');
    assert.equal((await c.subscribe('z')).type, 'error'); // not public: sanity
    writeFileSync(file, `b:${B}\n`, { mode: 0o600 });
    hd.proc.kill('SIGHUP');
    const end = await until(() => c.msgs.find((m) => m.type === 'unsubscribed'), 5000, 'revoked');
    assert.deepEqual(end, { type: 'unsubscribed', channel: 'x', reason: 'revoked' });
    await hd.emit('x', 'no');
    await hd.emit('y', 'yes');
    await until(() => c.messages().length === 1);
    assert.equal(c.messages()[0].data, 'yes');
    assert.equal((await hd.stats()).subscriptions_revoked, 1);
    c.close();
  } finally { await hd.stop(); }
});

// The raw bytes of an SSE stream until heraldd closes it.
function sseRead(hd, query) {
  return new Promise((resolve) => {
    const s = net.connect(hd.port, '127.0.0.1');
    let data = '';
    const t = setTimeout(() => { s.destroy(); resolve({ data, closed: false }); }, 8000);
    s.on('connect', () => s.write(`GET /sse?${query} HTTP/1.1\r\nHost: x\r\n\r\n`));
    s.on('data', (b) => { data += b; });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve({ data, closed: true }); });
  });
}

test('sse_stream_closes_at_its_first_names_expiry_with_a_last_event', async () => {
  const hd = await startHeraldd({ args: ['--expiring_notice_ms', '1000'] });
  try {
    const exp = nowS() + 2;
    const q = ['a', 'b'].map((ch, i) => 'channel=' + encodeURIComponent(hd.sign(ch, { expiry: exp + i * 600 }))).join('&');
    const done = sseRead(hd, q);
    await until(async () => (await hd.stats()).subscriptions === 2);
    await hd.emit('b', 'live');
    const r = await done;
    assert.ok(r.closed, 'heraldd closed the stream');
    assert.ok(Date.now() >= exp * 1000);
    const events = r.data.split('\r\n\r\n').slice(1).join('').split('\n\n').filter((e) => e.includes('data: '))
      .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)));
    // the message and the notice race (a slow machine may send the notice first)
    assert.deepEqual(events.map((e) => e.type).slice(0, 2), ['subscribed', 'subscribed']);
    assert.deepEqual(events.slice(2, 4).map((e) => e.type).sort(), ['expiring', 'message']);
    assert.equal(events.length, 5);
    assert.deepEqual(events.find((e) => e.type === 'expiring'), { type: 'expiring', channel: 'a', expires: exp });
    assert.deepEqual(events.at(-1), { type: 'unsubscribed', channel: 'a', reason: 'expired' });
    assert.equal((await hd.stats()).subscriptions, 0);
  } finally { await hd.stop(); }
});
