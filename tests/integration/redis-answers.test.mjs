// A broken or hostile Redis (a real one cannot be made to misbehave, so a
// small fake in node): an answer that never ends, on any connection heraldd
// reads with hiredis's async API (the command and subscriber connections of
// --redis, a Redis Cluster master's command connection), is cut once it
// holds more than any message (max_emit_body_bytes or
// max_client_message_bytes, the larger, + 64 KiB), and the link connects
// again; heraldd never holds what the fake streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startHeraldd, client, freePort, until } from './lib/heraldd.mjs';
import { parse } from './lib/rcluster.mjs';
import { startRedis } from './lib/redis.mjs';

const SHA = '0'.repeat(40);
const CHUNK = Buffer.alloc(1 << 18, 120);
const CHUNKS = 800; // 200 MB at most per endless answer

// "$1000000000\r\n" then 256 KiB chunks until heraldd hangs up (or 200 MB).
function endless(s, events) {
  s.write('$1000000000\r\n');
  let sent = 0;
  const pump = () => {
    while (sent < CHUNKS && !s.destroyed && s.write(CHUNK)) sent++;
    if (sent < CHUNKS && !s.destroyed) s.once('drain', pump);
    else events.push(`sent ${sent}`);
  };
  pump();
}

// A fake Redis: answer(s, conn, args) may answer a command itself (returns
// true); otherwise the usual answers. conn.role is cmd/sub/ssub from the
// connection's CLIENT SETNAME.
async function fakeRedis(answer) {
  const port = await freePort();
  const sockets = new Set();
  const server = net.createServer((s) => {
    const conn = { role: null, n: 0 };
    let buf = Buffer.alloc(0);
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parse(buf, 0);
        if (!r) break;
        buf = buf.subarray(r.end);
        const args = r.v.map(String);
        const c = args[0].toUpperCase();
        if (c === 'CLIENT' && args[1].toUpperCase() === 'SETNAME') conn.role = /-(\w+)$/.exec(args[2])[1];
        conn.n++;
        if (answer(s, conn, args, port)) continue;
        if (c === 'SCRIPT') s.write(`$40\r\n${SHA}\r\n`);
        else if (c === 'PING') s.write('+PONG\r\n');
        else s.write('+OK\r\n');
      }
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    async close() { for (const s of sockets) s.destroy(); await new Promise((r) => server.close(r)); },
  };
}

// The peak resident size of a process, in kB.
const peakKb = (pid) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

test('--redis: an endless answer on the command or the subscriber connection is cut, and the link comes back', async () => {
  const events = [];
  let cmds = 0, subs = 0;
  const fake = await fakeRedis((s, conn, args) => {
    const c = args[0].toUpperCase();
    if (c === 'CLIENT' && conn.role === 'cmd') cmds++;
    if (c === 'CLIENT' && conn.role === 'sub') {
      subs++;
      if (subs === 2) { endless(s, events); return true; } // second pair: the subscriber's first answer
    }
    if (c === 'PING' && conn.role === 'cmd' && cmds === 1) {
      conn.pings = (conn.pings || 0) + 1;
      if (conn.pings === 2) { events.push('cmd endless'); endless(s, events); return true; } // after the link is up
    }
    return false;
  });
  // a long redis_timeout_ms: only the bound may cut the endless answers
  const n = await startHeraldd({ args: ['--redis', `redis://127.0.0.1:${fake.port}`, '--redis_timeout_ms', '60000',
    '--max_emit_body_bytes', '1048576'] });
  try {
    await until(() => cmds >= 3 && subs >= 3, 30000, 'connected a third time');
    await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'the third pair is fine');
    const cuts = n.proc.log.match(/redis: an answer of more than 1114112 bytes, larger than any message \(max_emit_body_bytes or max_client_message_bytes, the larger, \+ 64 KiB\): connection cut/g) || [];
    assert.equal(cuts.length, 2, n.proc.log.slice(-3000));
    assert.ok(events.includes('cmd endless'), events.join());
    assert.ok((await n.stats()).redis_reconnects >= 1);
    const kb = peakKb(n.proc.pid);
    assert.ok(kb < 100 * 1024, `heraldd held ${kb} kB at its peak`);
  } finally {
    await n.stop();
    await fake.close();
  }
});

test('--redis-cluster: an endless answer on a master\'s command connection is cut, and the master connected again', async () => {
  const events = [];
  let cmds = 0;
  const fake = await fakeRedis((s, conn, args, port) => {
    const c = args[0].toUpperCase();
    // one master serving every slot: the fake itself
    if (c === 'CLUSTER') { s.write(`*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:${port}\r\n`); return true; }
    if (c === 'CLIENT' && conn.role === 'cmd') conn.first = ++cmds === 1;
    if (c === 'PING' && conn.first) { endless(s, events); conn.first = false; return true; }
    return false;
  });
  const n = await startHeraldd({ args: ['--redis-cluster', `127.0.0.1:${fake.port}`, '--redis_timeout_ms', '60000',
    '--max_emit_body_bytes', '1048576'] });
  try {
    await until(() => cmds >= 2, 30000, 'the command connection opened again');
    await until(async () => (await n.stats()).redis_link_up === 1, 10000, 'the second one is fine');
    assert.match(n.proc.log, new RegExp(`redis cluster 127\\.0\\.0\\.1:${fake.port}: an answer of more than 1114112 bytes`));
    const kb = peakKb(n.proc.pid);
    assert.ok(kb < 100 * 1024, `heraldd held ${kb} kB at its peak`);
  } finally {
    await n.stop();
    await fake.close();
  }
});

// The bound is on what one unfinished answer holds unparsed, not on the
// answer: a real Redis's history load of many of the largest messages
// (here 160 kB, the bound 68 KiB) is read whole, entry by entry.
test('--redis: a history load larger than the bound comes through whole', async () => {
  const redis = await startRedis();
  const args = ['--redis', redis.url, '--public_channels', 'pub.*', '--history_size', '100', '--max_emit_body_bytes', '2048'];
  const a = await startHeraldd({ args });
  const b = await startHeraldd({ args });
  try {
    await until(async () => (await a.stats()).redis_link_up === 1 && (await b.stats()).redis_link_up === 1, 5000, 'links up');
    const ids = [];
    for (let i = 0; i < 80; i++) ids.push((await a.emit('pub.big', String(i).padStart(2, '0') + 'x'.repeat(1998))).id);
    const c = await client(b); // b never saw pub.big: it loads the whole history from Redis
    const ans = await c.subscribe('pub.big', { since: ids[0] - 1 });
    assert.equal(ans.resume, 'ok', JSON.stringify(ans));
    await until(() => c.messages().length === 80, 5000, 'the 80 from history');
    assert.deepEqual(c.messages().map((m) => m.id), ids);
    assert.equal(c.messages()[79].data.length, 2000);
    assert.doesNotMatch(b.proc.log, /an answer of more than/);
    assert.equal((await b.stats()).redis_link_up, 1);
    c.close();
  } finally {
    await a.stop();
    await b.stop();
    await redis.stop();
  }
});
