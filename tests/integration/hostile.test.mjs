// A few hundred hostile clients at once — garbage after the handshake,
// slowloris, ping floods, oversized frames, subscribe spam, subscribers that
// never read — while legitimate subscribers must keep receiving every
// message with bounded latency. Afterwards heraldd's memory is back near
// its baseline and a fresh client connects. Loopback only, bounded in count
// and time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startHeraldd, client, rawWs, frame, until, sleep } from './lib/heraldd.mjs';

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

// Open n attackers with start(), without waiting for each to finish.
async function wave(n, start) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(start(i).catch(() => null));
  return (await Promise.all(out)).filter(Boolean);
}

function slowloris(hd) {
  return new Promise((resolve) => {
    const s = net.connect(hd.port, '127.0.0.1');
    s.on('error', () => {});
    s.on('connect', () => { s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpg'); resolve({ s }); });
  });
}

// Once with one event loop, once with two: attackers and subscribers then
// spread over both loops, and every message crosses from loop 0 to loop 1.
// pong_timeout_ms leaves the legitimate clients (in this busy test process)
// time to answer pings while the attackers connect; deaf clients still go.
for (const workers of [1, 2])
test(`hostile_clients_do_not_starve_legitimate_subscribers (workers=${workers})`, { timeout: 90000 }, async (t) => {
  const hd = await startHeraldd({ args: ['--max_queue_bytes', '65536', '--handshake_timeout_ms', '1500',
    '--max_commands_per_second', '10', '--max_connections_per_ip', '0', '--ping_interval_ms', '1000', '--pong_timeout_ms', '4000',
    '--log_level', 'warn', '--workers', String(workers)] });
  const attackers = [];
  try {
    const legit = [];
    for (let i = 0; i < 5; i++) {
      const c = await client(hd);
      await c.subscribe(hd.sign('live'));
      legit.push(c);
    }
    await hd.emit('live', 'warm-up');
    await until(() => legit.every((c) => c.messages().length === 1));
    const baseline = rssKiB(hd.proc.pid);

    const chan = hd.sign('live');
    const sub = frame(1, JSON.stringify({ type: 'subscribe', req: 1, channel: chan }));
    attackers.push(...await wave(60, () => slowloris(hd)));
    attackers.push(...await wave(50, async () => { const r = await rawWs(hd); r.s.write(randomBytes(512)); return r; }));
    attackers.push(...await wave(40, async () => {
      const r = await rawWs(hd);
      for (let i = 0; i < 300; i++) r.s.write(frame(9, 'flood'));
      return r;
    }));
    attackers.push(...await wave(40, async () => {
      const r = await rawWs(hd);
      const head = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]); // 1 MiB text frame
      r.s.write(Buffer.concat([head, randomBytes(8192)]));
      return r;
    }));
    attackers.push(...await wave(40, async () => {
      const r = await rawWs(hd);
      for (let i = 0; i < 100; i++) r.s.write(frame(1, JSON.stringify({ type: 'subscribe', req: i, channel: chan })));
      return r;
    }));
    const deaf = await wave(60, async () => {
      const r = await rawWs(hd);
      r.s.write(sub);
      await until(() => r.data.includes('"subscribed"'), 5000, 'deaf subscribed');
      r.s.pause(); // never reads again
      return r;
    });
    attackers.push(...deaf);
    assert.ok(attackers.length >= 280, `attackers connected: ${attackers.length}`);

    // Legitimate traffic during the attack: every message, bounded latency.
    const N = 150, payload = 'x'.repeat(4000), sent = new Map(), lat = [];
    for (const c of legit) c.ws.on('message', (b) => {
      const m = JSON.parse(b.toString());
      if (m.type === 'message' && sent.has(m.data)) lat.push(Date.now() - sent.get(m.data));
    });
    for (let i = 0; i < N; i++) {
      const data = `${i}:${payload}`;
      sent.set(data, Date.now());
      await hd.emit('live', data);
      if (i % 10 === 0) await sleep(5);
    }
    await until(() => legit.every((c) => c.messages().length === N + 1), 30000, 'every legitimate subscriber has every message')
      .catch(async (e) => { throw new Error(`${e.message}: got ${legit.map((c) => c.messages().length)}, closed ${legit.map((c) => c.closeCode)}, ${JSON.stringify(await hd.stats())}`); });
    for (const c of legit) {
      const got = c.messages().slice(1).map((m) => Number(m.data.split(':')[0]));
      assert.deepEqual(got, [...Array(N).keys()], 'in order, none lost');
    }
    lat.sort((a, b) => a - b);
    const p99 = lat[Math.floor(lat.length * 0.99)];
    assert.ok(p99 < 3000, `p99 publish-to-receive latency under attack: ${p99} ms`);

    // The attackers are all dealt with: closed by heraldd, with the right codes.
    const st = await until(async () => {
      const s = await hd.stats();
      return s.public_connections_open <= legit.length ? s : null;
    }, 20000, 'heraldd closed every attacker').catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await hd.stats())}`); });
    assert.ok(st.request_timeouts >= 60, `slowloris 408s: ${st.request_timeouts}`);
    assert.ok(st.protocol_errors.ws_1002 >= 40, `garbage 1002s: ${st.protocol_errors.ws_1002}`);
    assert.ok(st.protocol_errors.ws_1009 >= 40, `oversized 1009s: ${st.protocol_errors.ws_1009}`);
    // a deaf client goes when its queue overflows (1013) or, while the
    // kernel's buffers still absorb the frames, when it misses a pong
    const deafGone = st.slow_consumer_disconnects + st.ping_timeouts;
    assert.ok(deafGone >= 60, `deaf clients dropped: ${deafGone}`);
    assert.ok(st.commands_rate_limited > 0);
    for (const a of attackers) a.s.destroy();

    await sleep(300);
    const after = rssKiB(hd.proc.pid);
    t.diagnostic(`${attackers.length} attackers; p99 latency ${p99} ms; RSS ${baseline} KiB before, ${after} KiB after`);
    // (a sanitizer build keeps freed memory in quarantine: RSS says nothing there)
    if (!process.env.HERALDD) assert.ok(after - baseline < 4 * 1024, `RSS ${baseline} KiB before, ${after} KiB after the attack`);
    const fresh = await client(hd);
    await fresh.subscribe(hd.sign('live'));
    await hd.emit('live', 'after the storm');
    await until(() => fresh.messages().some((m) => m.data === 'after the storm'));
    for (const c of [...legit, fresh]) c.close();
  } finally {
    for (const a of attackers) a.s.destroy();
    await hd.stop();
  }
});
