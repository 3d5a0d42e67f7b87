// heraldd nodes on a real three-master Redis Cluster (README "Redis
// Cluster"): sharded pub/sub, each channel numbered, kept and delivered by
// the master serving its slot. redis-server ×3 with --cluster-enabled on
// free loopback ports, joined by redis-cli --cluster create.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHeraldd, client, freePort, until, sleep } from './lib/heraldd.mjs';
import { redis, parse, slotOf, startCluster, startMaster as rcStartMaster, ownerOf as rcOwnerOf,
  channelsOn as rcChannelsOn } from './lib/rcluster.mjs';

const dir = mkdtempSync(join(tmpdir(), 'herald-rcluster-'));
const masters = [];   // { port, proc, id, slots: [[lo, hi]...] }
const nodes = [];     // heraldd

const ownerOf = (ch) => rcOwnerOf(masters, ch);
const channelsOn = (m, prefix, n) => rcChannelsOn(masters, m, prefix, n);
const startMaster = (port, extra) => rcStartMaster(dir, port, extra);
const shardSubs = async (m, ch) => (await redis(m.port, ['PUBSUB', 'SHARDNUMSUB', `herald:{${ch}}:0`]))[1];

const ARGS = ['--public_channels', 'pub.*', '--history_size', '200'];

before(async () => {
  masters.push(...await startCluster(dir));
  // one seed, all seeds, another seed
  const seeds = [`127.0.0.1:${masters[0].port}`, masters.map((m) => `127.0.0.1:${m.port}`).join(','), `127.0.0.1:${masters[2].port}`];
  // node 1 runs two event loops: messages from the shards reach both
  for (const [i, s] of seeds.entries())
    nodes.push(await startHeraldd({ args: ['--redis-cluster', s, ...ARGS, ...(i === 1 ? ['--workers', '2'] : [])] }));
  for (const n of nodes)
    await until(async () => { const s = await n.stats(); return s.redis_link_up === 1 && s.redis_cluster_masters === 3; }, 10000, 'cluster link up');
});

after(async () => {
  for (const n of nodes) await n.stop();
  for (const m of masters) if (m.proc.exitCode === null && m.proc.signalCode === null) { process.kill(m.proc.pid, 'SIGTERM'); await m.proc.exited; }
  rmSync(dir, { recursive: true, force: true });
});

test('subscribers on every node get every message of channels on every master, in order; each shard carries only its own', async () => {
  const chans = masters.flatMap((m) => channelsOn(m, 'pub.fan', 2));
  const subs = [];
  for (const [i, n] of nodes.entries()) for (const ch of chans) {
    if (i === 2 && ch === chans[0]) continue; // node 2 never hears of chans[0]
    const c = await client(n);
    const a = await c.subscribe(ch);
    assert.equal(a.type, 'subscribed', JSON.stringify(a));
    subs.push({ c, ch });
  }
  const inBefore = (await nodes[2].stats()).redis_messages_in;
  const sent = Object.fromEntries(chans.map((ch) => [ch, []]));
  for (let i = 0; i < 60; i++) {
    const ch = chans[i % chans.length];
    const { id } = await nodes[i % 3].emit(ch, `m${i}`);
    sent[ch].push([id, `m${i}`]);
  }
  // a batch spanning the three masters: one answer, ids per channel in order
  const body = chans.map((ch, i) => `${ch} 2\nb${i}\n`).join('') + `${chans[1]} 2\nbb\n`;
  const br = await nodes[1].emitReq('POST', '/emit', body);
  assert.equal(br.status, 202, br.body);
  const bj = JSON.parse(br.body);
  chans.forEach((ch, i) => sent[ch].push([bj.ids[i], `b${i}`]));
  sent[chans[1]].push([bj.ids[chans.length], 'bb']);
  for (const ch of chans) {
    const ids = sent[ch].map(([id]) => id);
    for (let k = 1; k < ids.length; k++) assert.equal(ids[k], ids[k - 1] + 1, `${ch}: ids increase by one`);
  }
  for (const { c, ch } of subs) {
    await until(() => c.messages().length >= sent[ch].length, 5000, `all of ${ch}`);
    assert.deepEqual(c.messages().map((m) => [m.id, m.data]), sent[ch]);
  }
  // each channel is subscribed on its own master only, by the nodes with subscribers
  for (const ch of chans) {
    const owner = ownerOf(ch);
    for (const m of masters) assert.equal(await shardSubs(m, ch), m === owner ? (ch === chans[0] ? 2 : 3) : 0, `${ch} on ${m.port}`);
  }
  for (const m of masters) assert.ok((await redis(m.port, ['PUBSUB', 'SHARDCHANNELS'])).length >= 2, 'every master carries channels');
  const s2 = await nodes[2].stats();
  assert.equal(s2.redis_messages_in - inBefore, 60 + chans.length + 1 - sent[chans[0]].length,
    'node 2 received nothing for the channel it has no subscriber of');
  assert.equal(s2.redis_subscriptions, chans.length - 1);
  for (const { c } of subs) c.close();
  await until(async () => (await nodes[0].stats()).redis_subscriptions === 0, 3000, 'unsubscribed');
  await until(async () => (await shardSubs(ownerOf(chans[3]), chans[3])) === 0, 3000, 'SUNSUBSCRIBE reached the master');
});

test('a client moves from node B to node A with since and gets exactly what it missed', async () => {
  const [a, b, c] = nodes;
  for (const m of masters) {
    const [ch] = channelsOn(m, 'pub.move', 1);
    const c1 = await client(b);
    await c1.subscribe(ch);
    for (let i = 0; i < 5; i++) await a.emit(ch, 'before' + i);
    await until(() => c1.messages().length === 5, 3000, '5 before');
    const last = c1.messages().at(-1).id;
    c1.close();
    const missed = [];
    for (let i = 0; i < 7; i++) missed.push((await c.emit(ch, 'missed' + i)).id);
    const c2 = await client(a);
    const ans = await c2.subscribe(ch, { since: last });
    assert.equal(ans.resume, 'ok', JSON.stringify(ans));
    await until(() => c2.messages().length >= 7, 3000, 'replay');
    assert.deepEqual(c2.messages().map((x) => x.id), missed, 'no gap, no duplicate');
    const { id } = await b.emit(ch, 'live');
    await until(() => c2.messages().length === 8, 3000, 'live after the replay');
    assert.equal(c2.messages()[7].id, id);
    c2.close();
  }
});

test('idempotency keys hold across nodes on every shard, for single emits and batches', async () => {
  const chans = masters.map((m) => channelsOn(m, 'pub.idem', 1)[0]);
  const s = await client(nodes[2]);
  for (const ch of chans) await s.subscribe(ch);
  for (const [i, ch] of chans.entries()) {
    const first = await nodes[0].emitReq('POST', '/emit/' + ch, 'once', { 'Idempotency-Key': 'k-' + i });
    assert.equal(first.status, 202, first.body);
    const again = await nodes[1].emitReq('POST', '/emit/' + ch, 'once', { 'Idempotency-Key': 'k-' + i });
    assert.equal(again.status, 202, again.body);
    const a = JSON.parse(again.body);
    assert.equal(a.id, JSON.parse(first.body).id);
    assert.equal(a.repeated, true);
  }
  const body = chans.map((ch, i) => `${ch} 2\nb${i}\n`).join('');
  const b1 = await nodes[0].emitReq('POST', '/emit', body, { 'Idempotency-Key': 'batch-1' });
  const b2 = await nodes[2].emitReq('POST', '/emit', body, { 'Idempotency-Key': 'batch-1' });
  assert.equal(b2.status, 202, b2.body);
  assert.deepEqual(JSON.parse(b2.body).ids, JSON.parse(b1.body).ids);
  assert.equal(JSON.parse(b2.body).repeated, chans.length);
  await until(() => s.messages().length >= 2 * chans.length, 3000, 'once each');
  await sleep(50);
  assert.equal(s.messages().length, 2 * chans.length, 'nothing published twice');
  s.close();
});

test('pipelined emits to two masters: the second master answers first, the answers still go in request order', async () => {
  const [chA] = channelsOn(masters[0], 'pub.ooo', 1), [chB] = channelsOn(masters[1], 'pub.ooo', 1);
  const s = await client(nodes[1]);
  await s.subscribe(chA);
  await s.subscribe(chB);
  const sock = net.connect(nodes[0].emitPort, '127.0.0.1');
  let data = '';
  sock.setEncoding('latin1');
  sock.on('data', (d) => { data += d; });
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  const req = (ch, body) => `POST /emit/${ch} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  await redis(masters[0].port, ['CLIENT', 'PAUSE', '3000', 'WRITE']); // chA's master stalls
  try {
    sock.write(req(chA, 'a0') + req(chB, 'b0') + req(chA, 'a1') + req(chB, 'b1'));
    // chB's emits are published (read on, not held behind chA's) ...
    await until(() => s.messages().filter((m) => m.channel === chB).length === 2, 2000, 'chB published while chA waits');
    await sleep(50);
    assert.equal(data, '', '... but not answered before chA');
  } finally {
    await redis(masters[0].port, ['CLIENT', 'UNPAUSE']);
  }
  await until(() => (data.match(/HTTP\/1\.1 202/g) || []).length === 4, 5000, '4 answers');
  const ids = [...data.matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]));
  const got = (ch) => s.messages().filter((m) => m.channel === ch).map((m) => m.id);
  await until(() => got(chA).length === 2, 3000, 'chA delivered');
  assert.deepEqual([ids[0], ids[2]], got(chA), 'answers 1 and 3 are chA\'s');
  assert.deepEqual([ids[1], ids[3]], got(chB), 'answers 2 and 4 are chB\'s');
  sock.destroy();
  s.close();
});

test('scripts flushed from the masters: a subscription\'s load and an emit renew the connection, then work', async () => {
  const [ch] = channelsOn(masters[0], 'pub.flush', 1);
  const others = masters.slice(1).map((m) => channelsOn(m, 'pub.flush', 1)[0]);
  for (const m of masters) assert.equal(await redis(m.port, ['SCRIPT', 'FLUSH']), 'OK');
  const s = await client(nodes[0]);
  const ans = await s.subscribe(ch); // its load meets NOSCRIPT first
  assert.equal(ans.type, 'subscribed', JSON.stringify(ans));
  for (const o of others) { // an emit meets NOSCRIPT: 503, nothing published, then 202
    await until(async () => (await nodes[1].emitReq('POST', '/emit/' + o, 'x')).status === 202, 5000, 'emits again');
  }
  const { id } = await nodes[2].emit(ch, 'after the flush');
  assert.equal(id, ans.last + 1);
  await until(() => s.messages().length === 1, 3000, 'delivered');
  s.close();
});

test('a channel\'s master restarted mid-stream: its emits answer 503, other shards go on, subscribers lose nothing accepted', async () => {
  const victim = masters[1];
  const [ch] = channelsOn(victim, 'pub.restart', 1);
  const [other] = channelsOn(masters[0], 'pub.steady', 1);
  // the victim keeps its data across the restart (append-only file, fsync always)
  await redis(victim.port, ['CONFIG', 'SET', 'appendonly', 'yes'], ['CONFIG', 'SET', 'appendfsync', 'always']);
  await until(async () => /aof_rewrite_in_progress:0/.test(await redis(victim.port, ['INFO', 'persistence'])) &&
    /aof_enabled:1/.test(await redis(victim.port, ['INFO', 'persistence'])), 5000, 'AOF on');
  const subs = [await client(nodes[0]), await client(nodes[1])];
  for (const s of subs) { await s.subscribe(ch); await s.subscribe(other); }
  const accepted = [], steady = [];
  let refused = 0, stop = false;
  const emitter = (async () => {
    for (let i = 0; !stop; i++) {
      const r = await nodes[2].emitReq('POST', '/emit/' + ch, 'r' + i);
      if (r.status === 202) accepted.push(JSON.parse(r.body).id);
      else { assert.equal(r.status, 503, r.body); refused++; }
      steady.push((await nodes[2].emit(other, 's' + i)).id); // another master: never refused
      await sleep(3);
    }
  })();
  await until(() => subs.every((s) => s.messages().length >= 20), 5000, 'stream flowing');
  process.kill(victim.proc.pid, 'SIGKILL');
  await victim.proc.exited;
  await until(() => refused > 0, 5000, 'emits refused while the master is down');
  victim.proc = await startMaster(victim.port, ['--appendonly', 'yes', '--appendfsync', 'always']);
  await until(async () => /cluster_state:ok/.test(await redis(victim.port, ['CLUSTER', 'INFO'])), 10000, 'victim back in the cluster');
  const n = accepted.length;
  await until(() => accepted.length >= n + 10, 10000, 'emits accepted again');
  stop = true;
  await emitter;
  for (const s of subs) {
    await until(() => s.messages().filter((m) => m.channel === ch).at(-1)?.id === accepted.at(-1), 10000, 'caught up');
    // every accepted id, once, in order; an emit in flight when the master
    // died answered 503 and may still have been published (the one case
    // where 503 is not "nothing published"): it is delivered in its place
    const got = s.messages().filter((m) => m.channel === ch).map((m) => m.id);
    for (let k = 1; k < got.length; k++) assert.equal(got[k], got[k - 1] + 1, 'no gap, no duplicate');
    assert.deepEqual(got.filter((id) => accepted.includes(id)), accepted);
    assert.ok(got.length - accepted.length <= 1, `${got.length - accepted.length} published and refused`);
    await until(() => s.messages().filter((m) => m.channel === other).length >= steady.length, 5000, 'steady caught up');
    assert.deepEqual(s.messages().filter((m) => m.channel === other).map((m) => m.id), steady);
    assert.equal(s.closeCode, null, 'the subscriber stayed connected');
    s.close();
  }
  const st = await nodes[0].stats();
  assert.ok(st.redis_reconnects >= 1, JSON.stringify(st));
  assert.ok(st.redis_cluster_slot_refreshes >= 2);
});

test('a channel\'s master restarted empty: its subscribers are told to resume, and resuming says gap', async () => {
  const victim = masters[2]; // no persistence: it comes back with its slots and no data
  const [ch] = channelsOn(victim, 'pub.empty', 1);
  const s = await client(nodes[0]);
  await s.subscribe(ch);
  const first = await nodes[1].emit(ch, 'before');
  await until(() => s.messages().length === 1, 3000, 'before');
  process.kill(victim.proc.pid, 'SIGKILL');
  await victim.proc.exited;
  victim.proc = await startMaster(victim.port);
  await until(async () => /cluster_state:ok/.test(await redis(victim.port, ['CLUSTER', 'INFO'])), 10000, 'victim back');
  await until(() => s.closeCode !== null, 10000, 'closed 1012 for the gap');
  assert.equal(s.closeCode, 1012);
  const s2 = await client(nodes[2]);
  const ans = await s2.subscribe(ch, { since: first.id });
  assert.equal(ans.resume, 'gap', JSON.stringify(ans));
  const after = await nodes[1].emit(ch, 'after');
  assert.equal(after.id, ans.last + 1);
  await until(() => s2.messages().length === 1, 3000, 'after');
  s2.close();
});

test('a live channel\'s slot moves to another master: emits follow ASK and MOVED, subscribers follow the slot', async () => {
  const [src, dst, third] = masters;
  const [ch] = channelsOn(src, 'pub.migrate', 1);
  const slot = slotOf(`herald:{${ch}}:0`);
  const subs = [await client(nodes[0]), await client(nodes[2])];
  for (const s of subs) await s.subscribe(ch);
  const movedBefore = (await nodes[1].stats()).redis_cluster_moved;
  const accepted = [];
  let stop = false;
  const emitter = (async () => {
    for (let i = 0; !stop; i++) {
      // single emits and two-record batches (one MULTI/EXEC, redirected whole)
      const r = i % 2 ? await nodes[1].emitReq('POST', '/emit/' + ch, 'g' + i)
        : await nodes[1].emitReq('POST', '/emit', [`g${i}`, `h${i}`].map((d) => `${ch} ${d.length}\n${d}\n`).join(''));
      assert.equal(r.status, 202, r.body); // a slot moving is no outage
      const j = JSON.parse(r.body);
      accepted.push(...(j.ids ?? [j.id]));
      await sleep(2);
    }
  })();
  await until(() => subs.every((s) => s.messages().length >= 10), 5000, 'stream flowing');
  await redis(dst.port, ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', src.id]);
  await redis(src.port, ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', dst.id]);
  const keys = await redis(src.port, ['CLUSTER', 'GETKEYSINSLOT', slot, 100]);
  assert.ok(keys.length >= 2, JSON.stringify(keys));
  assert.equal(await redis(src.port, ['MIGRATE', '127.0.0.1', dst.port, '', 0, 5000, 'KEYS', ...keys]), 'OK');
  // emits meanwhile get ASK (the keys have left), followed to the importing master
  await until(() => /ASK \d+ \S+: 1 message/.test(nodes[1].proc.log) && /ASK \d+ \S+: 2 message/.test(nodes[1].proc.log),
    5000, 'a single emit and a batch redirected by ASK');
  for (const m of [dst, src, third]) assert.equal(await redis(m.port, ['CLUSTER', 'SETSLOT', slot, 'NODE', dst.id]), 'OK');
  await until(async () => (await shardSubs(dst, ch)) === 2, 5000, 'both nodes subscribed on the new owner');
  const n = accepted.length;
  await until(() => accepted.length >= n + 10, 5000, 'emits go on');
  stop = true;
  await emitter;
  assert.equal(await shardSubs(src, ch), 0, 'nothing left on the old owner');
  for (const s of subs) {
    await until(() => s.messages().length >= accepted.length, 5000, 'caught up');
    assert.deepEqual(s.messages().map((m) => m.id), accepted, 'every accepted id, once, in order');
    s.close();
  }
  assert.ok((await nodes[1].stats()).redis_cluster_moved > movedBefore, 'redirections counted');
  assert.match(nodes[1].proc.log, /MOVED \d+ \S+: \d message\(s\) sent again/, 'then MOVED, to the new owner');
});

// A broken or hostile Redis (a real one cannot be made to misbehave, so a
// small fake seed that serves every slot itself): an answer growing past
// any message (max_emit_body_bytes + 64 KiB) on the sharded pub/sub
// connection, then malformed RESP, each make heraldd drop that connection
// and connect again, nothing held.
test('a master sending an endless answer or malformed RESP is cut off, and connected again', async () => {
  const port = await freePort();
  const events = [];
  let ssubs = 0;
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('close', () => events.push('close'));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parse(buf, 0);
        if (!r) break;
        buf = buf.subarray(r.end);
        const [cmd, a1, a2] = r.v.map(String);
        const c = cmd.toUpperCase();
        if (c === 'CLUSTER') s.write(`*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:${port}\r\n`);
        else if (c === 'SCRIPT') s.write('$40\r\n' + '0'.repeat(40) + '\r\n');
        else if (c === 'PING') s.write('+PONG\r\n');
        else if (c === 'CLIENT' && /-ssub$/.test(a2)) {
          s.write('+OK\r\n');
          if (ssubs++ === 0) { // the first: a bulk string that never ends
            s.write('$1000000000\r\n');
            const chunk = Buffer.alloc(1 << 18, 120);
            let sent = 0;
            const pump = () => { while (sent < 40 && s.write(chunk)) sent++; if (sent < 40 && !s.destroyed) s.once('drain', pump); else events.push('sent ' + sent); };
            pump();
          } else if (ssubs === 2) s.write('?what\r\n'); // then junk
        } else s.write('+OK\r\n');
      }
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  // a long redis_timeout_ms: only the bound may cut the endless answer
  const n = await startHeraldd({ args: ['--redis-cluster', `127.0.0.1:${port}`, '--redis_timeout_ms', '60000', '--max_emit_body_bytes', '1048576', ...ARGS] });
  try {
    await until(() => ssubs >= 3, 30000, 'connected again after the huge answer and the junk');
    assert.match(n.proc.log, /an answer larger than any message/);
    assert.match(n.proc.log, /a malformed answer from Redis/);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${n.proc.pid}/status`, 'utf8'))[1]);
    assert.ok(rss < 100 * 1024, `heraldd holds ${rss} kB`);
    await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'the third connection is fine');
  } finally {
    await n.stop();
    await new Promise((r) => server.close(r));
  }
});
