// The emit listener's boundary (issue 11): browser requests and foreign
// Hosts are refused, pipelined emits are slowed down rather than dropped,
// idle and unauthorized connections do not pile up, Expect: 100-continue
// is answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHeraldd, client, raw, request, until, sleep } from './lib/heraldd.mjs';

let hd;
before(async () => { hd = await startHeraldd({ args: ['--emit_allowed_hosts', 'emit.internal, other.internal'] }); });
after(async () => { await hd?.stop(); });

const tcp = () => ({ port: hd.emitPort });
const status = (r) => Number(r.data.toString().split(' ')[1]);
const post = (path, headers, body = 'x') =>
  `POST ${path} HTTP/1.1\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;

test('emit_refuses_origin_and_sec_fetch_headers_and_publishes_nothing', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('priv'));
  const s0 = await hd.stats();
  const host = `Host: 127.0.0.1:${hd.emitPort}\r\n`;
  const refused = [
    post('/emit/priv', host + 'Origin: https://evil.example\r\n'),
    post('/emit/priv', host + 'Origin: null\r\n'),
    post('/emit/priv', host + 'Sec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: cross-site\r\n'),
    `GET /emit/priv/img HTTP/1.1\r\n${host}Sec-Fetch-Dest: image\r\nConnection: close\r\n\r\n`,
    `GET /stats HTTP/1.1\r\n${host}sec-fetch-site: same-origin\r\n\r\n`,
  ];
  for (const r of refused) {
    for (const target of [tcp(), { socketPath: hd.emitSock }]) {
      const a = await raw(target, r);
      assert.equal(status(a), 403, a.data.toString());
      assert.match(a.data.toString(), /browser/);
      assert.ok(a.closed);
    }
  }
  // What curl and PHP send still publishes, on both listeners.
  assert.equal(status(await raw(tcp(), post('/emit/priv', host))), 202);
  assert.equal(status(await raw({ socketPath: hd.emitSock }, post('/emit/priv', 'Host: localhost\r\n'))), 202);
  await until(() => c.messages().length === 2);
  await sleep(100);
  assert.equal(c.messages().length, 2);
  const s1 = await hd.stats();
  assert.equal(s1.emit_browser_refused - s0.emit_browser_refused, 10);
  c.close();
});

test('emit_tcp_listener_refuses_a_foreign_host_dns_rebinding', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('reb'));
  const s0 = await hd.stats();
  for (const h of ['evil.example', `evil.example:${hd.emitPort}`, '127.0.0.1.nip.io', 'localhost.evil.example', '127.0.0.1x', 'a b']) {
    const e = await raw(tcp(), post('/emit/reb', `Host: ${h}\r\n`));
    assert.equal(status(e), 403, h);
    assert.match(e.data.toString(), /emit_allowed_hosts/);
    const st = await raw(tcp(), `GET /stats HTTP/1.1\r\nHost: ${h}\r\n\r\n`);
    assert.equal(status(st), 403, h);
    assert.doesNotMatch(st.data.toString(), /messages_emitted/);
  }
  const s1 = await hd.stats();
  assert.equal(s1.emit_host_refused - s0.emit_host_refused, 12);
  // localhost, IP addresses (they cannot be rebound), the configured
  // names, and no Host at all (HTTP/1.0 tools) are answered.
  const ok = ['localhost', 'LOCALHOST:80', `127.0.0.1:${hd.emitPort}`, '127.9.8.7', '[::1]:26300',
    '10.1.2.3:26300', '[fd00::7]', 'emit.internal', 'Emit.Internal:8080'];
  for (const h of ok) assert.equal(status(await raw(tcp(), post('/emit/reb', `Host: ${h}\r\n`))), 202, h);
  const noHost = await raw(tcp(), 'POST /emit/reb HTTP/1.0\r\nContent-Length: 1\r\n\r\nx');
  assert.equal(status(noHost), 202);
  // A Unix socket is out of a browser's reach: any Host is fine there.
  assert.equal(status(await raw({ socketPath: hd.emitSock }, post('/emit/reb', 'Host: whatever.example\r\n'))), 202);
  await until(() => c.messages().length === ok.length + 2);
  c.close();
});

test('curl_publishes_with_the_seed_get_route_on_tcp_and_unix', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('seed'));
  const a = execFileSync('curl', ['-s', `http://127.0.0.1:${hd.emitPort}/emit/seed/hello%20tcp`], { encoding: 'utf8' });
  const b = execFileSync('curl', ['-s', '--unix-socket', hd.emitSock, 'http://localhost/emit/seed/hello%20unix'], { encoding: 'utf8' });
  const d = execFileSync('curl', ['-s', '-X', 'POST', '--data-binary', 'posted', `http://localhost:${hd.emitPort}/emit/seed`], { encoding: 'utf8' });
  assert.equal(a, '"OK"');
  assert.equal(b, '"OK"');
  assert.match(d, /"id":/);
  await until(() => c.messages().length === 3);
  assert.deepEqual(c.messages().map((m) => m.data), ['hello tcp', 'hello unix', 'posted']);
  c.close();
});

test('pipelined_emits_read_slowly_are_all_answered_and_published', async () => {
  // The old default max_queue_bytes: before backpressure, the answers to a
  // pipelined burst passed it and the emit connection was dropped as a
  // slow consumer after ~1,900 publishes and one answer.
  const h = await startHeraldd({ args: ['--max_queue_bytes', '262144'] });
  try {
    const c = await client(h);
    await c.subscribe(h.sign('pipe'));
    const N = 3000;
    const s = net.connect(h.emitSock);
    let got = Buffer.alloc(0);
    s.on('data', (b) => { got = Buffer.concat([got, b]); });
    const closed = new Promise((r) => s.on('close', r));
    await new Promise((r) => s.on('connect', r));
    s.pause(); // read nothing while the whole burst goes out
    let reqs = '';
    for (let i = 0; i < N; i++) reqs += `POST /emit/pipe HTTP/1.1\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`;
    s.write(reqs);
    await sleep(500);
    // then read in small sips
    for (let i = 0; i < 40 && (got.toString().match(/HTTP\/1\.1 202/g) || []).length < N; i++) {
      s.resume();
      await sleep(5);
      s.pause();
      await sleep(20);
    }
    s.resume();
    await until(() => (got.toString().match(/HTTP\/1\.1 202/g) || []).length === N, 20000, `${N} answers`);
    const ids = [...got.toString().matchAll(/\{"id":(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(ids.length, N);
    for (let i = 1; i < N; i++) assert.equal(ids[i], ids[i - 1] + 1);
    await until(() => c.messages().length === N, 10000, `${N} messages`);
    assert.deepEqual(c.messages().map((m) => m.data), Array.from({ length: N }, (_, i) => String(i)));
    assert.equal((await h.stats()).slow_consumer_disconnects, 0);
    s.end();
    await closed;
    c.close();
  } finally { await h.stop(); }
});

test('an_emit_connection_that_sends_nothing_is_closed_after_request_timeout_ms', async () => {
  const h = await startHeraldd({ args: ['--request_timeout_ms', '300'] });
  try {
    const t0 = Date.now();
    const r = await raw({ port: h.emitPort }, '', 4000);
    assert.ok(r.closed, 'closed by the daemon');
    assert.ok(Date.now() - t0 < 2500);
    assert.equal(status(r), 408);
    assert.match(r.data.toString(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.equal((await h.stats()).request_timeouts, 1);
    // A kept-alive connection idle after a request stays (emit_idle_timeout_ms).
    const s = net.connect(h.emitSock);
    let data = '';
    s.on('data', (b) => { data += b; });
    await new Promise((res) => s.on('connect', res));
    s.write('GET /healthz HTTP/1.1\r\n\r\n');
    await until(() => data.includes('ok'));
    await sleep(800);
    s.write('GET /healthz HTTP/1.1\r\n\r\n');
    await until(() => data.split('ok').length === 3, 2000, 'second answer on the idle connection');
    s.destroy();
  } finally { await h.stop(); }
});

test('emit_connections_are_capped_per_listener_with_a_log_line', async () => {
  const h = await startHeraldd({ args: ['--max_emit_connections', '3'] });
  try {
    const idle = [];
    for (let i = 0; i < 3; i++) {
      const s = net.connect(h.emitPort, '127.0.0.1');
      s.on('error', () => {});
      idle.push(s);
      await new Promise((r) => s.on('connect', r));
    }
    await until(async () => (await h.stats()).emit_connections_open >= 3);
    const refused = await raw({ port: h.emitPort }, 'GET /healthz HTTP/1.1\r\n\r\n', 3000);
    assert.ok(refused.closed);
    assert.equal(refused.data.length, 0);
    // The Unix socket is another listener: PHP still publishes, browsers still connect.
    const c = await client(h);
    await c.subscribe(h.sign('cap'));
    await h.emit('cap', 'through the unix socket');
    await until(() => c.messages().length === 1);
    assert.equal((await request({ port: h.port, path: '/healthz' })).status, 200);
    const st = await h.stats();
    assert.equal(st.emit_connections_refused, 1);
    assert.match(h.proc.log, /max_emit_connections \(3\) reached/);
    // A slot freed is a slot again.
    idle.pop().destroy();
    await until(async () => (await h.stats()).emit_connections_open <= 3);
    const ok = await raw({ port: h.emitPort }, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(status(ok), 200);
    for (const s of idle) s.destroy();
    c.close();
  } finally { await h.stop(); }
});

test('idle_tcp_emit_connections_cannot_take_every_descriptor', async () => {
  // The case: at the open-file limit, a flood of silent TCP emit
  // connections reset public /healthz and a correct emit on the Unix socket.
  const h = await startHeraldd({ args: ['--max_connections_per_ip', '0'], nofile: [64, 64] });
  const socks = [];
  try {
    const room = Number(/(\d+) connections fit/.exec(h.proc.log)[1]);
    let closed = 0;
    for (let i = 0; i < 60; i++) {
      const s = net.connect(h.emitPort, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => { closed++; });
      socks.push(s);
    }
    await until(() => closed >= 60 - Math.floor(room / 4), 5000, 'the flood past a quarter of the room closed');
    assert.equal((await request({ port: h.port, path: '/healthz' })).status, 200);
    const c = await client(h);
    await c.subscribe(h.sign('fd'));
    await h.emit('fd', 'still published');
    await until(() => c.messages().length === 1);
    const st = await h.stats();
    assert.ok(st.emit_connections_refused >= 60 - Math.floor(room / 4), JSON.stringify(st));
    assert.match(h.proc.log, /a quarter of what the open-file limit \(64\) leaves/);
    c.close();
  } finally {
    for (const s of socks) s.destroy();
    await h.stop();
  }
});

test('a_401_closes_the_emit_connection', async () => {
  const tokenFile = join(hd.dir, 'emit-token');
  writeFileSync(tokenFile, 'a-long-enough-emit-token-0123456789\n', { mode: 0o600 });
  const k = await startHeraldd({ args: ['--emit_secret_file', tokenFile] });
  try {
    const bad = 'POST /emit/x HTTP/1.1\r\nAuthorization: Bearer wrong\r\nContent-Length: 1\r\n\r\nx' +
      'POST /emit/x HTTP/1.1\r\nAuthorization: Bearer wrong-again\r\nContent-Length: 1\r\n\r\nx';
    const r = await raw({ socketPath: k.emitSock }, bad, 3000);
    assert.ok(r.closed, 'closed after the 401');
    assert.equal((r.data.toString().match(/HTTP\/1\.1 401/g) || []).length, 1);
    assert.match(r.data.toString(), /Connection: close/);
    assert.equal((await request({ socketPath: k.emitSock, path: '/healthz',
      headers: { Authorization: 'Bearer a-long-enough-emit-token-0123456789' } })).status, 200);
  } finally { await k.stop(); }
});

test('expect_100_continue_is_answered_before_the_body', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('cont'));
  const s = net.connect(hd.emitSock);
  let data = '';
  s.on('data', (b) => { data += b; });
  await new Promise((r) => s.on('connect', r));
  s.write('POST /emit/cont HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  await until(() => data.includes('\r\n\r\n'), 2000, '100 Continue');
  assert.equal(data, 'HTTP/1.1 100 Continue\r\n\r\n');
  s.write('hello');
  await until(() => data.includes('HTTP/1.1 202'), 2000, 'the answer');
  // A body sent with the headers needs no 100.
  data = '';
  s.write('POST /emit/cont HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi');
  await until(() => data.includes('HTTP/1.1 202'));
  assert.doesNotMatch(data, /100 Continue/);
  s.destroy();
  // curl's own Expect handling: no one-second stall.
  const t0 = Date.now();
  execFileSync('curl', ['-s', '--unix-socket', hd.emitSock, '-H', 'Expect: 100-continue',
    '--data-binary', 'x'.repeat(2048), 'http://localhost/emit/cont']);
  assert.ok(Date.now() - t0 < 900, `curl took ${Date.now() - t0} ms`);
  await until(() => c.messages().length === 3);
  c.close();
});
