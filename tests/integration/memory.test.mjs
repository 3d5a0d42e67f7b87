// Issue 11, items 5 and 6: what an outsider (or a careless app) can make
// heraldd hold. Fresh public names over SSE and WebSocket from one
// address, a 5-byte emit to each of 20,000 channels, 1 MiB messages that
// nobody reads, max_channels, and resume across a channel whose state was
// freed. Memory is read from /proc/PID/status (VmRSS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startHeraldd, client, until, sleep, raw } from './lib/heraldd.mjs';

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
// A sanitizer build keeps freed memory in quarantine: RSS says nothing there.
const sanitized = /san/.test(process.env.HERALDD || '');
const rssBelow = (grew, kib, what) => { if (!sanitized) assert.ok(grew < kib, `RSS grew ${grew} KiB ${what}`); };

// Open GET /sse for these names; resolve the status as soon as the head
// arrives (a 200 stream is then dropped: the client goes away).
function sseOnce(port, names) {
  const path = '/sse?' + names.map((n) => 'channel=' + encodeURIComponent(n)).join('&');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const r = { status: res.statusCode, headers: res.headers, body: '' };
      if (res.statusCode === 200) { req.destroy(); resolve(r); return; }
      res.on('data', (c) => { r.body += c; });
      res.on('end', () => resolve(r));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('sse timed out')));
  });
}

// One batch emit (application/x-herald-batch) of [channel, message] pairs.
async function emitBatch(hd, pairs) {
  const parts = [];
  for (const [ch, msg] of pairs) {
    const m = Buffer.from(msg);
    parts.push(Buffer.from(`${ch} ${m.length}\n`), m, Buffer.from('\n'));
  }
  const r = await hd.emitReq('POST', '/emit', Buffer.concat(parts), { 'Content-Type': 'application/x-herald-batch' });
  assert.equal(r.status, 202, r.body);
  return JSON.parse(r.body);
}

test('fresh_public_names_over_sse_from_one_address_are_refused_past_the_limit', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'pub.*', '--max_new_channels_per_ip_per_second', '200', '--log_level', 'info'] });
  try {
    const before = rssKiB(hd.proc.pid);
    const status = {};
    let n = 0, refused = null;
    const t0 = Date.now();
    for (let i = 0; i < 20000; i += 64) {
      const names = [];
      for (let j = i; j < Math.min(i + 64, 20000); j++) names.push(`pub.n${j}`);
      const r = await sseOnce(hd.port, names);
      status[r.status] = (status[r.status] || 0) + 1;
      if (r.status === 429 && !refused) refused = r;
      n++;
    }
    // burst 200 + 64, then 200/s: 64 names a request, a handful get through
    const most = Math.ceil((264 + 200 * (Date.now() - t0) / 1000) / 64);
    assert.ok(status[200] >= 4 && status[200] <= most, `${JSON.stringify(status)}, at most ${most} expected`);
    assert.equal(status[429], n - status[200], JSON.stringify(status));
    assert.match(refused.body, /max_new_channels_per_ip_per_second/);
    assert.equal(refused.headers['retry-after'], '1');
    const st = await hd.stats();
    assert.ok(st.new_channels_rate_limited >= status[429], JSON.stringify(st));
    // every stream is gone: so is every channel, at once
    await until(async () => (await hd.stats()).channels === 0, 3000, 'channels freed');
    rssBelow(rssKiB(hd.proc.pid) - before, 8 * 1024, 'after 20,000 fresh names');
    // the address may create again once its bucket refills
    await sleep(400);
    assert.equal((await sseOnce(hd.port, ['pub.later'])).status, 200);
  } finally { await hd.stop(); }
});

test('websocket_subscribe_unsubscribe_churn_is_rate_limited_and_holds_nothing', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'pub.*', '--max_commands_per_second', '100000',
    '--max_new_channels_per_second', '50', '--max_new_channels_per_ip_per_second', '0'] });
  try {
    const c = await client(hd);
    const before = rssKiB(hd.proc.pid);
    const t0 = Date.now();
    // in rounds of 1,000 commands, each waiting for its answers (a client
    // that never reads would be dropped as a slow consumer instead)
    for (let i = 0; i < 20000; i++) {
      c.send({ type: 'subscribe', req: 2 * i + 1, channel: `pub.w${i}` });
      c.send({ type: 'unsubscribe', req: 2 * i + 2, channel: `pub.w${i}` });
      if (i % 500 === 499) await until(() => c.msgs.length >= 2 * (i + 1) || c.closeCode !== null, 10000, 'answers');
    }
    assert.equal(c.closeCode, null, `closed ${c.closeCode} after ${c.msgs.length} answers: ${JSON.stringify(c.msgs.slice(-2))}`);
    const subscribed = c.msgs.filter((m) => m.type === 'subscribed').length;
    const limited = c.msgs.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    // burst 50 + 64, then 50/s while the 40,000 commands are read
    const most = 114 + Math.ceil(50 * (Date.now() - t0) / 1000);
    assert.ok(subscribed >= 114 && subscribed <= most, `subscribed ${subscribed}, at most ${most} expected`);
    assert.equal(limited.length, 20000 - subscribed);
    assert.match(limited[0].reason, /max_new_channels_per_second/);
    assert.equal(c.ws.readyState, 1, 'the connection stays open');
    assert.equal((await hd.stats()).channels, 0);
    rssBelow(rssKiB(hd.proc.pid) - before, 8 * 1024, 'after 20,000 fresh names');
    c.close();
  } finally { await hd.stop(); }
});

test('max_channels_refuses_new_channels_on_every_path_naming_the_key', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'pub.*', '--max_channels', '20'] });
  try {
    for (let i = 0; i < 20; i++) await hd.emit(`full${i}`, 'x');
    const r = await hd.emitReq('POST', '/emit/full20', 'x');
    assert.equal(r.status, 503);
    assert.match(r.body, /max_channels/);
    await hd.emit('full3', 'an existing channel still takes messages');
    // a batch that reaches the limit midway: one answer, saying how far it got
    const batch = 'full1 1\na\nfresh.a 1\nb\n';
    const req = `POST /emit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-herald-batch\r\nContent-Length: ${batch.length}\r\n\r\n${batch}` +
      'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const answers = (await raw({ socketPath: hd.emitSock }, req)).data.toString();
    assert.deepEqual(answers.match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 503', 'HTTP/1.1 200'], answers);
    assert.match(answers, /max_channels\): 1 of 2 messages published/);
    const c = await client(hd);
    const e = await c.subscribe('pub.fresh');
    assert.equal(e.type, 'error');
    assert.equal(e.code, 'too_many_channels');
    assert.match(e.reason, /max_channels/);
    assert.equal((await c.subscribe(hd.sign('full3'))).type, 'subscribed');
    const s = await sseOnce(hd.port, ['pub.fresh2']);
    assert.equal(s.status, 503);
    assert.match(s.body, /max_channels/);
    assert.ok((await hd.stats()).max_channels_refused >= 3);
    c.close();
  } finally { await hd.stop(); }
});

test('one_small_emit_to_each_of_20000_channels_costs_little_memory', async () => {
  const hd = await startHeraldd({ args: ['--log_level', 'warn'] });
  try {
    const before = rssKiB(hd.proc.pid);
    for (let b = 0; b < 2; b++) {
      const pairs = [];
      for (let i = 0; i < 10000; i++) pairs.push([`user.${b}.${i}`, 'hello']);
      await emitBatch(hd, pairs);
    }
    assert.equal((await hd.stats()).channels, 20000);
    // a whole 100-slot ring per channel was ~4 KiB each (80 MiB here);
    // a channel with one message now costs a few hundred bytes
    rssBelow(rssKiB(hd.proc.pid) - before, 24 * 1024, 'for 20,000 channels');
  } finally { await hd.stop(); }
});

test('large_messages_nobody_reads_are_bounded_by_the_history_byte_keys', async () => {
  const mib = 1024 * 1024;
  const hd = await startHeraldd({ args: ['--history_max_bytes_per_channel', String(3 * mib + 4096),
    '--history_max_bytes', String(5 * mib), '--max_queue_bytes', String(4 * mib), '--log_level', 'warn'] });
  try {
    const before = rssKiB(hd.proc.pid);
    const body = 'x'.repeat(mib - 100);
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push((await hd.emit(i % 2 ? 'big.b' : 'big.a', body)).id);
    rssBelow(rssKiB(hd.proc.pid) - before, 16 * 1024, 'after 40 MiB of messages');
    // the oldest were dropped first: resume from the start is a gap, from
    // the last but one replays the last
    const c = await client(hd);
    const g = await c.subscribe(hd.sign('big.a'), { since: ids[0] });
    assert.equal(g.resume, 'gap');
    const ok = await c.subscribe(hd.sign('big.b'), { since: ids[37] });
    assert.equal(ok.resume, 'ok');
    await until(() => c.messages().length === 1, 5000, 'the replayed message');
    assert.equal(c.messages()[0].id, ids[39]);
    c.close();
  } finally { await hd.stop(); }
});

test('resume_after_the_channel_state_was_freed_is_ok_unless_something_was_lost', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'pub.*', '--history_ttl_ms', '300'] });
  try {
    // a subscriber alone: its channel goes with it, and comes back without a gap
    const a = await client(hd);
    const first = await a.subscribe('pub.quiet');
    a.close();
    await until(async () => (await hd.stats()).channels === 0, 3000, 'state freed');
    const b = await client(hd);
    const again = await b.subscribe('pub.quiet', { since: first.last });
    assert.equal(again.resume, 'ok');
    assert.ok(again.last > first.last);
    b.close();
    // a message seen, then its history expires and the state goes
    const seen = (await hd.emit('pub.busy', 'one')).id;
    await until(async () => (await hd.stats()).channels === 0, 5000, 'history expired');
    const c = await client(hd);
    assert.equal((await c.subscribe('pub.busy', { since: seen })).resume, 'ok');
    await c.cmd({ type: 'unsubscribe', channel: 'pub.busy' });
    // a message missed, and gone: that is a gap
    await hd.emit('pub.busy', 'two');
    await until(async () => (await hd.stats()).channels === 0, 5000, 'history expired');
    assert.equal((await c.subscribe('pub.busy', { since: seen })).resume, 'gap');
    c.close();
  } finally { await hd.stop(); }
});
