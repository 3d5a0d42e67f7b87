// heraldd over WebSocket: subscribe/emit/receive, signatures, public
// patterns, commands, and malformed frames answered with the right close
// code while another client on the same daemon keeps receiving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHeraldd, client, rawWs, frame, until, sleep, heralddSync, raw, top } from './lib/heraldd.mjs';

let hd, watcher;
before(async () => {
  hd = await startHeraldd({ args: ['--public_channels', 'lobby,news.*', '--max_subscriptions', '3', '--history_size', '5'] });
  watcher = await client(hd);
  await watcher.subscribe(hd.sign('watch'));
});
after(async () => { watcher?.close(); await hd?.stop(); });

// After something nasty happened, the watcher still gets a fresh message.
async function watcherStillReceives() {
  const n = watcher.messages().length;
  const { id } = await hd.emit('watch', 'still here');
  await until(() => watcher.messages().length === n + 1, 3000, 'watcher message');
  assert.equal(watcher.messages().at(-1).id, id);
}

test('subscribe_emit_receive_with_signed_name', async () => {
  const c = await client(hd);
  const a = await c.subscribe(hd.sign('orders'));
  assert.deepEqual(Object.keys(a).sort(), ['channel', 'last', 'req', 'type']);
  assert.equal(a.type, 'subscribed');
  assert.equal(a.channel, 'orders');
  const r = await hd.emit('orders', 'hello "world"\n');
  assert.equal(r.subscribers, 1);
  await until(() => c.messages().length === 1);
  assert.deepEqual(c.messages()[0], { type: 'message', channel: 'orders', id: r.id, data: 'hello "world"\n' });
  const r2 = await hd.emit('orders', 'second');
  assert.equal(r2.id, r.id + 1);
  c.close();
});

test('non_utf8_data_arrives_base64', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('bin'));
  const res = await hd.emitReq('POST', '/emit/bin', Buffer.from([0xff, 0x00, 0x41]));
  assert.equal(res.status, 202);
  await until(() => c.messages().length === 1);
  const m = c.messages()[0];
  assert.equal(m.encoding, 'base64');
  assert.deepEqual(Buffer.from(m.data, 'base64'), Buffer.from([0xff, 0x00, 0x41]));
  c.close();
});

test('many_clients_on_one_channel_all_receive', async () => {
  const cs = await Promise.all(Array.from({ length: 50 }, () => client(hd)));
  await Promise.all(cs.map((c) => c.subscribe(hd.sign('crowd'))));
  const r = await hd.emit('crowd', 'to all');
  assert.equal(r.subscribers, 50);
  await until(() => cs.every((c) => c.messages().length === 1));
  for (const c of cs) c.close();
});

test('several_channels_are_kept_apart_and_unsubscribe_stops_delivery', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('one'));
  await c.subscribe(hd.sign('two'));
  await hd.emit('one', '1');
  await hd.emit('two', '2');
  await hd.emit('three', '3');
  await until(() => c.messages().length === 2);
  assert.deepEqual(c.messages().map((m) => [m.channel, m.data]), [['one', '1'], ['two', '2']]);
  const u = await c.cmd({ type: 'unsubscribe', channel: 'one' });
  assert.deepEqual({ type: u.type, channel: u.channel }, { type: 'unsubscribed', channel: 'one' });
  assert.equal((await hd.emit('one', 'x')).subscribers, 0);
  const again = await c.cmd({ type: 'unsubscribe', channel: 'one' });
  assert.equal(again.code, 'not_subscribed');
  c.close();
});

test('forged_expired_and_absent_signatures_are_refused', async () => {
  const c = await client(hd);
  const good = hd.sign('secret-room');
  const forged = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA');
  assert.equal((await c.subscribe(forged)).code, 'forbidden');
  assert.equal((await c.subscribe('secret-room')).code, 'forbidden');
  assert.equal((await c.subscribe(hd.sign('secret-room', { expiry: 1000 }))).code, 'expired');
  assert.equal((await c.subscribe(hd.sign('secret-room', { kid: 'other' }))).code, 'forbidden');
  assert.equal((await c.subscribe('bad/name')).code, 'invalid_channel');
  assert.equal((await hd.emit('secret-room', 'x')).subscribers, 0);
  const ok = await c.subscribe(hd.sign('secret-room', { expiry: Math.floor(Date.now() / 1000) + 60 }));
  assert.equal(ok.type, 'subscribed');
  c.close();
});

test('heraldd_sign_output_is_accepted', async () => {
  const r = heralddSync(['sign', 'signed.by.cli', '--secret-file', hd.secretFile]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^signed\.by\.cli~v1\.0\.0\.[A-Za-z0-9_-]{43}\n$/);
  const t = heralddSync(['sign', 'ttl', '--ttl', '60', '--secret-file', hd.secretFile]);
  const exp = Number(t.out.split('.')[2]);
  assert.ok(Math.abs(exp - (Date.now() / 1000 + 60)) < 5);
  const c = await client(hd);
  assert.equal((await c.subscribe(r.out.trim())).type, 'subscribed');
  assert.equal((await c.subscribe(t.out.trim())).type, 'subscribed');
  c.close();
});

test('public_channel_patterns_need_no_signature', async () => {
  const c = await client(hd);
  assert.equal((await c.subscribe('lobby')).type, 'subscribed');
  assert.equal((await c.subscribe('news.sport')).type, 'subscribed');
  assert.equal((await c.subscribe('news')).code, 'forbidden');
  assert.equal((await c.subscribe('lobby2')).code, 'forbidden');
  await hd.emit('news.sport', 'goal');
  await until(() => c.messages().length === 1);
  c.close();
});

test('command_errors_keep_the_connection_open', async () => {
  const c = await client(hd);
  c.ws.send('not json');
  await until(() => c.msgs.some((m) => m.type === 'error' && m.req === null));
  assert.equal(c.msgs.at(-1).code, 'bad_request');
  assert.equal((await c.cmd({ type: 'publish' })).code, 'bad_request');
  assert.equal((await c.cmd({ type: 'subscribe' })).code, 'bad_request');
  assert.equal((await c.cmd({ type: 'subscribe', channel: 'lobby', since: 'x' })).code, 'bad_request');
  assert.deepEqual(Object.keys(await c.cmd({ type: 'ping' })).sort(), ['req', 'type']);
  assert.equal(c.ws.readyState, 1);
  c.close();
});

test('too_many_subscriptions_is_refused', async () => {
  const c = await client(hd);
  for (const n of ['s1', 's2', 's3']) assert.equal((await c.subscribe(hd.sign(n))).type, 'subscribed');
  const r = await c.subscribe(hd.sign('s4'));
  assert.equal(r.code, 'too_many_subscriptions');
  c.close();
});

test('resume_replays_missed_messages_then_live_and_reports_gaps', async () => {
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push((await hd.emit('resume', 'm' + i)).id);
  const c = await client(hd);
  const a = await c.subscribe(hd.sign('resume'), { since: ids[1] });
  assert.equal(a.resume, 'ok');
  assert.equal(a.last, ids[3]);
  await hd.emit('resume', 'live');
  await until(() => c.messages().length === 3);
  assert.deepEqual(c.messages().map((m) => m.data), ['m2', 'm3', 'live']);
  // history_size is 5: older ids are a gap and nothing is replayed
  for (let i = 0; i < 6; i++) await hd.emit('resume', 'more' + i);
  const g = await client(hd);
  const b = await g.subscribe(hd.sign('resume'), { since: ids[0] });
  assert.equal(b.resume, 'gap');
  await sleep(50);
  assert.equal(g.messages().length, 0);
  const f = await g.cmd({ type: 'subscribe', channel: 'lobby', since: 12345 });
  assert.equal(f.resume, 'gap');
  c.close();
  g.close();
});

test('server_answers_ping_with_pong_of_same_payload', async () => {
  const r = await rawWs(hd);
  r.s.write(frame(9, 'abc'));
  await until(() => r.data.length >= 5);
  assert.deepEqual([...r.data.subarray(0, 5)], [0x8a, 3, 0x61, 0x62, 0x63]);
  r.s.destroy();
});

async function expectClose(bytes, code) {
  const r = await rawWs(hd);
  for (const b of [].concat(bytes)) { r.s.write(b); await sleep(5); }
  await until(() => r.closeCode() !== null, 3000, `close ${code}`);
  assert.equal(r.closeCode(), code);
  await Promise.race([r.ended, sleep(3000)]);
  assert.ok(r.closed, 'server closed the connection');
  await watcherStillReceives();
}

test('close_handshake_echoes_a_valid_code', async () => {
  const p = Buffer.alloc(2); p.writeUInt16BE(4000);
  await expectClose(frame(8, p), 4000);
});

test('bad_close_code_is_answered_1002', async () => {
  const p = Buffer.alloc(2); p.writeUInt16BE(1005);
  await expectClose(frame(8, p), 1002);
});

test('unmasked_frame_is_1002', async () => { await expectClose(frame(1, '{}', { mask: false }), 1002); });
test('reserved_opcode_is_1002', async () => { await expectClose(frame(3, 'x'), 1002); });
test('binary_message_is_1003', async () => { await expectClose(frame(2, 'abc'), 1003); });

test('invalid_utf8_split_across_fragments_is_1007', async () => {
  // U+20AC is E2 82 AC: send E2 82 in one fragment, then a bad continuation.
  await expectClose([frame(1, Buffer.from([0x22, 0xe2, 0x82]), { fin: false }), frame(0, Buffer.from([0x41, 0x22]))], 1007);
});

test('valid_utf8_split_across_fragments_is_accepted', async () => {
  const r = await rawWs(hd);
  const cmd = Buffer.from('{"type":"ping","req":5,"x":"€"}');
  const cut = cmd.indexOf(0xe2) + 1;
  r.s.write(frame(1, cmd.subarray(0, cut), { fin: false }));
  r.s.write(frame(0, cmd.subarray(cut)));
  await until(() => r.data.includes('"pong"'));
  r.s.destroy();
});

test('oversized_message_is_1009', async () => {
  await expectClose(frame(1, 'x'.repeat(5000)), 1009);
});

test('bad_upgrades_get_400_and_wrong_version_426', async () => {
  const bad = await raw({ port: hd.port }, 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n');
  assert.match(bad.data.toString(), /^HTTP\/1.1 400 /);
  const plain = await raw({ port: hd.port }, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(plain.data.toString(), /^HTTP\/1.1 400 /);
  const v = await raw({ port: hd.port }, 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n');
  assert.match(v.data.toString(), /^HTTP\/1.1 426 /);
  assert.match(v.data.toString(), /\r\nSec-WebSocket-Version: 13\r\n/);
  const post = await raw({ port: hd.port }, 'POST /ws HTTP/1.1\r\nContent-Length: 0\r\n\r\n');
  assert.match(post.data.toString(), /^HTTP\/1.1 405 [^]*\r\nAllow: GET\r\n/);
  const nf = await raw({ port: hd.port }, 'GET /nope HTTP/1.1\r\n\r\n');
  assert.match(nf.data.toString(), /^HTTP\/1.1 404 /);
  await watcherStillReceives();
});

test('herald_js_is_served_as_script_and_module', async () => {
  const s = await raw({ port: hd.port }, 'GET /herald.js HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.match(s.data.toString(), /^HTTP\/1.1 200 [^]*Content-Type: text\/javascript/);
  assert.match(s.data.toString(), /globalThis\.Herald = Herald/);
  assert.match(s.data.toString(), /Cache-Control: public, max-age=300\r\n/);
  const m = await raw({ port: hd.port }, 'GET /herald.mjs HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.match(m.data.toString(), /export default Herald/);
  assert.match(m.data.toString(), /Access-Control-Allow-Origin: \*\r\n/, 'a cross-origin module needs CORS');
});

test('herald_js_with_the_version_in_the_url_is_cached_for_a_year', async () => {
  const version = readFileSync(join(top, 'VERSION'), 'utf8').trim();
  for (const path of ['/herald.js', '/herald.mjs']) {
    const v = (await raw({ port: hd.port }, `GET ${path}?v=${version} HTTP/1.1\r\nConnection: close\r\n\r\n`)).data.toString();
    assert.match(v, /Cache-Control: public, max-age=31536000, immutable\r\n/, path);
    const old = (await raw({ port: hd.port }, `GET ${path}?v=0.0.0-old HTTP/1.1\r\nConnection: close\r\n\r\n`)).data.toString();
    assert.match(old, /Cache-Control: public, max-age=300\r\n/, 'another version is not cached for long');
  }
});
