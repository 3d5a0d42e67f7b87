// Limits against slow and cross-site clients: the handshake deadline on the
// public listener (slowloris), the request deadline on the emit listener,
// and the Origin allowlist for WebSocket and SSE — each answered with its
// status and reason while a legitimate subscriber keeps receiving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startHeraldd, client, until, sleep, heralddSync } from './lib/heraldd.mjs';

// A raw TCP client that records what it gets and when the server closes.
function tcp(target) {
  const s = net.connect(target);
  const r = { s, data: '', closed: false };
  s.setEncoding('latin1');
  s.on('data', (c) => { r.data += c; });
  s.on('error', () => {});
  s.on('close', () => { r.closed = true; });
  r.ready = new Promise((res) => s.on('connect', res));
  return r;
}

const upgrade = (origin) => 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  (origin ? `Origin: ${origin}\r\n` : '') + '\r\n';

test('slowloris_on_the_public_listener_gets_408_and_others_keep_receiving', async () => {
  const hd = await startHeraldd({ args: ['--handshake_timeout_ms', '400'] });
  try {
    const good = await client(hd);
    await good.subscribe(hd.sign('news'));
    const slow = tcp({ port: hd.port, host: '127.0.0.1' });
    await slow.ready;
    const silent = tcp({ port: hd.port, host: '127.0.0.1' });
    await silent.ready;
    const head = upgrade();
    const started = Date.now();
    // one byte every 50 ms: each read is recent, the request never completes
    for (let i = 0; i < head.length - 2 && !slow.closed; i++) {
      slow.s.write(head[i]);
      if (i % 5 === 0) await hd.emit('news', 'tick' + i);
      await sleep(50);
    }
    await until(() => slow.closed && silent.closed, 5000, 'both slow clients closed');
    assert.ok(Date.now() - started < 3000, 'closed near the deadline, not at the end of the drip');
    assert.match(slow.data, /^HTTP\/1\.1 408 /);
    assert.match(slow.data, /handshake_timeout_ms/);
    assert.match(silent.data, /^HTTP\/1\.1 408 /);
    const n = (await hd.stats()).request_timeouts;
    assert.ok(n >= 2, `request_timeouts ${n}`);
    await hd.emit('news', 'after');
    await until(() => good.messages().some((m) => m.data === 'after'));
    assert.equal(good.ws.readyState, 1);
    good.close();
  } finally { await hd.stop(); }
});

test('an_upgraded_websocket_outlives_the_handshake_deadline', async () => {
  const hd = await startHeraldd({ args: ['--handshake_timeout_ms', '200'] });
  try {
    const c = await client(hd);
    await c.subscribe(hd.sign('a'));
    await sleep(700);
    await hd.emit('a', 'still here');
    await until(() => c.messages().some((m) => m.data === 'still here'));
    assert.equal((await hd.stats()).request_timeouts, 0);
    c.close();
  } finally { await hd.stop(); }
});

test('emit_request_stalled_midway_gets_408_but_idle_keep_alive_stays_open_until_emit_idle_timeout_ms', async () => {
  const hd = await startHeraldd({ args: ['--request_timeout_ms', '300'] });
  try {
    const idle = tcp({ path: hd.emitSock });
    await idle.ready;
    idle.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => idle.data.includes('ok'), 3000, 'first answer');
    const stalled = tcp({ path: hd.emitSock });
    await stalled.ready;
    stalled.s.write('POST /emit/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    await until(() => stalled.closed, 3000, 'stalled request closed');
    assert.match(stalled.data, /^HTTP\/1\.1 408 /);
    assert.match(stalled.data, /request_timeout_ms/);
    await sleep(500); // idle between requests for longer than the deadline
    assert.equal(idle.closed, false, 'an idle kept-alive emit connection is not cut');
    idle.data = '';
    idle.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => idle.data.includes('ok'), 3000, 'second answer on the same connection');
    idle.s.destroy();
  } finally { await hd.stop(); }
});

test('idle_emit_connections_are_closed_quietly_after_emit_idle_timeout_ms_busy_ones_stay', async () => {
  const hd = await startHeraldd({ args: ['--emit_idle_timeout_ms', '600'] });
  try {
    const sub = await client(hd);
    await sub.subscribe(hd.sign('a'));
    const silent = tcp({ path: hd.emitSock }); // connects, never sends a byte
    const used = tcp({ path: hd.emitSock });   // one request, then idles
    const busy = tcp({ path: hd.emitSock });   // a request every 150 ms
    await Promise.all([silent.ready, used.ready, busy.ready]);
    const t0 = Date.now();
    used.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => used.data.includes('ok'), 3000, 'an answer');
    used.data = '';
    let sent = 0;
    while (!(silent.closed && used.closed)) {
      assert.ok(Date.now() - t0 < 10000, 'idle emit connections closed within 10 s');
      busy.s.write('POST /emit/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx');
      sent++;
      await sleep(150);
    }
    assert.ok(Date.now() - t0 >= 550, 'not before emit_idle_timeout_ms');
    assert.equal(silent.data, '', 'closed without an answer');
    assert.equal(used.data, '', 'closed without an answer (a 408 could cross a request)');
    await sleep(300);
    assert.equal(busy.closed, false, 'a connection that keeps sending requests stays');
    await until(() => (busy.data.match(/HTTP\/1\.1 202 /g) || []).length === sent, 3000, 'every emit answered');
    await until(() => sub.messages().filter((m) => m.data === 'x').length === sent, 3000, 'every emit delivered');
    const st = await hd.stats();
    assert.equal(st.emit_idle_closed, 2);
    assert.equal(st.request_timeouts, 0);
    busy.s.destroy();
    sub.close();
  } finally { await hd.stop(); }
});

test('origin_allowlist_refuses_other_sites_on_ws_and_sse_with_403', async () => {
  const hd = await startHeraldd({ args: ['--allowed_origins', 'https://app.example, https://admin.example'] });
  try {
    const answer = async (origin) => {
      const c = tcp({ port: hd.port, host: '127.0.0.1' });
      await c.ready;
      c.s.write(upgrade(origin));
      await until(() => c.data.includes('\r\n\r\n'), 3000, 'an answer');
      c.s.destroy();
      return c.data;
    };
    const evil = await answer('https://evil.example');
    assert.match(evil, /^HTTP\/1\.1 403 /);
    assert.match(evil, /origin not allowed/);
    assert.match(await answer('https://app.example'), /^HTTP\/1\.1 101 /);
    assert.match(await answer('https://ADMIN.example'), /^HTTP\/1\.1 101 /, 'origins compare case-insensitively');
    assert.match(await answer(null), /^HTTP\/1\.1 101 /, 'no Origin: not a browser page');
    const sse = (origin) => new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: hd.port, agent: false,
        path: '/sse?channel=' + encodeURIComponent(hd.sign('a')), headers: origin ? { origin } : {} }, (res) => {
        resolve({ status: res.statusCode, acao: res.headers['access-control-allow-origin'] });
        req.destroy();
      });
      req.on('error', () => resolve({ status: 0 }));
    });
    assert.equal((await sse('https://evil.example')).status, 403);
    const ok = await sse('https://app.example');
    assert.equal(ok.status, 200);
    assert.equal(ok.acao, 'https://app.example');
    assert.equal((await hd.stats()).origin_refused, 2);
  } finally { await hd.stop(); }
});

test('origin_entries_match_default_ports_and_wildcard_subdomains_only', async () => {
  const hd = await startHeraldd({ args: ['--allowed_origins', 'https://app.example, https://*.eu.example:8443'] });
  try {
    const status = async (origin) => {
      const c = tcp({ port: hd.port, host: '127.0.0.1' });
      await c.ready;
      c.s.write(upgrade(origin));
      await until(() => c.data.includes('\r\n\r\n'), 3000, 'an answer');
      c.s.destroy();
      return Number(c.data.slice(9, 12));
    };
    assert.equal(await status('https://app.example:443'), 101, 'the default port is the same origin');
    assert.equal(await status('https://shop.eu.example:8443'), 101);
    assert.equal(await status('https://a.b.eu.example:8443'), 101);
    assert.equal(await status('https://eu.example:8443'), 403, 'a wildcard is for subdomains only');
    assert.equal(await status('https://eviltwin-eu.example:8443'), 403);
    assert.equal(await status('https://shop.eu.example'), 403, 'the port is part of the origin');
    assert.equal(await status('http://app.example'), 403, 'so is the scheme');
    assert.equal(await status('https://app.example.evil.example'), 403);
    assert.equal(await status('null'), 403, 'a sandboxed page on any site sends null');
    assert.equal((await hd.stats()).origin_refused, 6);
  } finally { await hd.stop(); }
});

test('bad_allowed_origins_are_refused_at_start_naming_the_entry', () => {
  for (const [v, bad] of [['https://app.example, app.example', 'app.example'],
    ['https://app.example/', 'https://app.example/'], ['null', null]]) {
    const r = heralddSync(['--check-config', '--emit', 'none', '--allowed_origins', v]);
    assert.equal(r.code, 2, v);
    assert.match(r.err, /^heraldd: allowed_origins: /m, v);
    if (bad) assert.ok(r.err.includes(`'${bad}' is not an origin`), r.err);
  }
});

test('timeouts_below_their_minimum_are_refused_at_start', async () => {
  for (const key of ['handshake_timeout_ms', 'request_timeout_ms']) {
    const r = heralddSync(['--check-config', '--' + key, '5']);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(key + ".*out of range"));
  }
});

test('command_flood_gets_rate_limited_then_closed_1008_while_others_receive', async () => {
  const hd = await startHeraldd({ args: ['--max_commands_per_second', '5', '--max_subscriptions', '3'] });
  try {
    const good = await client(hd);
    await good.subscribe(hd.sign('news'));
    const spam = await client(hd);
    // the burst: 5 + 3 commands answered normally, sent at once so that
    // no token refills in between (however slow this machine is)
    const answers = await Promise.all(Array.from({ length: 10 }, () => spam.cmd({ type: 'ping' })));
    assert.deepEqual(answers.slice(0, 8).map((a) => a.type), Array(8).fill('pong'));
    const over = answers.slice(8).find((a) => a.type === 'error');
    assert.ok(over, `a command past the burst is refused: ${JSON.stringify(answers.slice(8))}`);
    assert.equal(over.code, 'rate_limited');
    for (let i = 0; i < 40; i++) spam.send({ type: 'subscribe', req: 100 + i, channel: hd.sign('x' + i) });
    await until(() => spam.closeCode !== null, 5000, 'spammer closed');
    assert.equal(spam.closeCode, 1008);
    await hd.emit('news', 'fine');
    await until(() => good.messages().some((m) => m.data === 'fine'));
    assert.ok((await hd.stats()).commands_rate_limited >= 10);
    good.close();
  } finally { await hd.stop(); }
});

test('commands_at_the_allowed_rate_are_never_refused', async () => {
  const hd = await startHeraldd({ args: ['--max_commands_per_second', '20'] });
  try {
    const c = await client(hd);
    for (let i = 0; i < 30; i++) {
      assert.equal((await c.cmd({ type: 'ping' })).type, 'pong', `ping ${i}`);
      await sleep(60); // ~16 per second
    }
    assert.equal((await hd.stats()).commands_rate_limited, 0);
    c.close();
  } finally { await hd.stop(); }
});

test('a_batch_over_max_batch_messages_is_refused_whole_with_413', async () => {
  const hd = await startHeraldd({ args: ['--max_batch_messages', '3'] });
  try {
    const c = await client(hd);
    await c.subscribe(hd.sign('b'));
    const rec = (i) => `b ${String(i).length}\n${i}\n`;
    const over = await hd.emitReq('POST', '/emit', [1, 2, 3, 4].map(rec).join(''));
    assert.equal(over.status, 413);
    assert.match(over.body, /batch of 4 messages: at most 3 \(max_batch_messages\)/);
    const ok = await hd.emitReq('POST', '/emit', [1, 2, 3].map(rec).join(''));
    assert.equal(ok.status, 202);
    await until(() => c.messages().length === 3);
    assert.deepEqual(c.messages().map((m) => m.data), ['1', '2', '3'], 'nothing of the refused batch');
    c.close();
  } finally { await hd.stop(); }
});

// Open a raw upgrade with extra header lines; resolves with the status line
// and the socket (kept open).
async function upgradeWith(hd, extra = '') {
  const c = tcp({ port: hd.port, host: '127.0.0.1' });
  await c.ready;
  c.s.write(upgrade().replace(/\r\n\r\n$/, '\r\n' + extra + '\r\n'));
  await until(() => c.data.includes('\r\n\r\n'), 3000, 'an answer');
  return { status: Number(c.data.split(' ')[1]), text: c.data, c };
}

test('connections_per_ip_over_the_limit_get_503_and_a_freed_slot_is_reused', async () => {
  const hd = await startHeraldd({ args: ['--max_connections_per_ip', '3'] });
  const open = [];
  try {
    for (let i = 0; i < 3; i++) {
      const r = await upgradeWith(hd);
      assert.equal(r.status, 101);
      open.push(r.c);
    }
    const over = await upgradeWith(hd);
    assert.equal(over.status, 503);
    assert.match(over.text, /Retry-After: 10/);
    assert.match(over.text, /max_connections_per_ip/);
    await until(() => over.c.closed, 3000, 'refused connection closed');
    // without trusted proxies a client cannot pick its address
    assert.equal((await upgradeWith(hd, 'X-Forwarded-For: 198.51.100.1\r\n')).status, 503);
    open.pop().s.destroy();
    await until(async () => (await upgradeWith(hd)).status === 101, 3000, 'a slot freed by a close');
    assert.ok((await hd.stats()).per_ip_refused >= 2);
  } finally {
    for (const s of open) s.s.destroy();
    await hd.stop();
  }
});

test('behind_a_trusted_proxy_the_forwarded_client_is_counted', async () => {
  const hd = await startHeraldd({ args: ['--max_connections_per_ip', '2', '--trusted_proxies', '127.0.0.0/8, ::1'] });
  const open = [];
  try {
    const via = async (h) => { const r = await upgradeWith(hd, h); open.push(r.c); return r.status; };
    assert.equal(await via('X-Forwarded-For: 198.51.100.1\r\n'), 101);
    assert.equal(await via('X-Forwarded-For: 203.0.113.9, 198.51.100.1\r\n'), 101, 'the right-most untrusted hop');
    assert.equal(await via('X-Forwarded-For: 198.51.100.1\r\n'), 503, 'a third from the same client');
    // only trusted_proxy_header (X-Forwarded-For here) names the client: a
    // Forwarded the client sent itself is ignored (peers.test.mjs has more)
    assert.equal(await via('X-Forwarded-For: 198.51.100.2\r\nForwarded: for="198.51.100.1"\r\n'), 101);
    assert.equal(await via('X-Forwarded-For: 198.51.100.3, 127.0.0.5\r\n'), 101, 'trusted hops are skipped');
    // many clients behind the one proxy address: not limited as one
    for (let i = 10; i < 16; i++) assert.equal(await via(`X-Forwarded-For: 192.0.2.${i}\r\n`), 101);
    // the proxy's own requests without a header count as the proxy
    assert.equal(await via(''), 101);
    assert.equal(await via(''), 101);
    assert.equal(await via(''), 503);
  } finally {
    for (const s of open) s.s.destroy();
    await hd.stop();
  }
});

test('bad_trusted_proxies_are_refused_at_start_naming_the_entry', () => {
  const r = heralddSync(['--check-config', '--emit', 'none', '--trusted_proxies', '10.0.0.0/8, proxy.local']);
  assert.equal(r.code, 2);
  assert.match(r.err, /trusted_proxies: 'proxy\.local' is not an IP address/);
});

// The open-file limit decides how many clients fit, whatever max_connections
// says. A soft limit below what max_connections needs is raised up to the
// hard one; a hard limit too low is named at start; heraldd refuses clients
// while it still has a descriptor to spare, so the emit API and /stats keep
// working, logs it plainly (not once per refused client), counts it, and
// serves again as soon as clients leave.
async function openFiles(pid) {
  const { readFileSync } = await import('node:fs');
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return line.split(/\s{2,}/).slice(1, 3).map(Number);
}

test('a_soft_open_file_limit_below_max_connections_is_raised_to_fit', async () => {
  const hd = await startHeraldd({ args: ['--max_connections', '1000'], nofile: [64, 4096] });
  try {
    const [soft, hard] = await openFiles(hd.proc.pid);
    assert.equal(hard, 4096);
    assert.ok(soft >= 1000 && soft <= 4096, `soft limit ${soft}`);
    assert.match(hd.proc.log, /open-file limit raised from 64/);
    assert.doesNotMatch(hd.proc.log, /connections fit/);
  } finally { await hd.stop(); }
});

test('out_of_file_descriptors_is_named_at_start_refused_in_time_logged_counted_and_recovered', async () => {
  const hd = await startHeraldd({ args: ['--max_connections', '1000', '--max_connections_per_ip', '0', '--public_channels', 'fd*'], nofile: [64, 64] });
  const socks = [];
  try {
    const m = /max_connections is 1000 but the open-file limit is 64 \(hard limit 64\): (\d+) connections fit/.exec(hd.proc.log);
    assert.ok(m, hd.proc.log);
    const room = Number(m[1]);
    assert.ok(room > 10 && room < 64, `room ${room}`);
    const good = await client(hd);
    await good.subscribe('fd');
    let closed = 0;
    for (let i = 0; i < 120; i++) {
      const s = net.connect({ port: hd.port, host: '127.0.0.1' });
      s.on('error', () => {});
      s.on('close', () => { closed++; });
      socks.push(s);
    }
    await until(() => closed >= 120 - room, 5000, 'the clients past the room closed');
    // While full: the emit API still answers, the subscriber still receives.
    const st = await hd.stats();
    assert.ok(st.fd_limit_refused >= 120 - room, JSON.stringify(st));
    const keep = Math.min(64, Math.floor(room / 4));
    assert.equal(st.public_connections_open, room - keep, 'the room less the share kept for emit connections');
    await hd.emit('fd', 'while full');
    await until(() => good.messages().some((x) => x.data === 'while full'), 3000, 'delivery while full');
    const lines = hd.proc.log.split('\n').filter((l) => l.includes('the open-file limit (64) leaves room for')).length;
    assert.ok(lines >= 1 && lines <= 2, `logged ${lines} times, not once per refused client`);
    for (const s of socks) s.destroy();
    await until(async () => (await hd.stats()).public_connections_open === 1, 3000, 'clients gone');
    const fresh = await client(hd);
    assert.equal((await fresh.subscribe('fd')).type, 'subscribed');
    fresh.close();
    good.close();
  } finally {
    for (const s of socks) s.destroy();
    await hd.stop();
  }
});
