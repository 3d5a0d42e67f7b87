// heraldd's emit API: statuses with reasons, batch, the seed's GET route,
// keep-alive and pipelining on the Unix socket, stats, the emit secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startHeraldd, client, raw, request, until, heralddSync, top } from './lib/heraldd.mjs';

let hd;
before(async () => { hd = await startHeraldd({ args: ['--max_emit_body_bytes', '1000', '--max_url_bytes', '200', '--max_header_count', '10'] }); });
after(async () => { await hd?.stop(); });

const sock = () => ({ socketPath: hd.emitSock });
const status = (r) => Number(r.data.toString().split(' ')[1]);
const reason = (r) => r.data.toString().split('\r\n\r\n')[1];

test('emit_single_returns_id_and_subscribers', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('e1'));
  const r = await hd.emitReq('POST', '/emit/e1', 'payload');
  assert.equal(r.status, 202);
  const j = JSON.parse(r.body);
  assert.equal(j.subscribers, 1);
  assert.ok(Number.isInteger(j.id) && j.id > Date.now() * 1000 - 1e9);
  c.close();
});

test('batch_publishes_every_record_in_order', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('b1'));
  await c.subscribe(hd.sign('b2'));
  const body = 'b1 5\nab\ncd\nb2 0\n\nb1 3\n\u00e9x\n';
  const r = await hd.emitReq('POST', '/emit', body, { 'Content-Type': 'application/x-herald-batch' });
  assert.equal(r.status, 202, r.body);
  const j = JSON.parse(r.body);
  assert.equal(j.ids.length, 3);
  assert.deepEqual(j.subscribers, [1, 1, 1]);
  assert.equal(j.ids[2], j.ids[0] + 1);
  await until(() => c.messages().length === 3);
  assert.deepEqual(c.messages().map((m) => m.data), ['ab\ncd', '', '\u00e9x']);
  c.close();
});

test('bad_batch_is_rejected_whole_naming_the_record', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('b3'));
  const r = await hd.emitReq('POST', '/emit', 'b3 1\nx\nb3 9\nshort\n');
  assert.equal(r.status, 400);
  assert.match(r.body, /^record 1: /);
  const bad = await hd.emitReq('POST', '/emit', 'b3 1\nx\nno/pe 1\nx\n');
  assert.match(bad.body, /record 1: invalid channel/);
  assert.equal((await hd.emitReq('POST', '/emit', '')).status, 400);
  await hd.emit('b3', 'after');
  await until(() => c.messages().length === 1);
  assert.equal(c.messages()[0].data, 'after'); // nothing from the bad batches
  c.close();
});

test('seed_get_route_publishes_url_decoded', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('id1'));
  const r = await request({ port: hd.emitPort, path: '/emit/id1/hello%20w%2Forld' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '"OK"');
  await until(() => c.messages().length === 1);
  assert.equal(c.messages()[0].data, 'hello w/orld');
  c.close();
});

test('error_statuses_have_one_line_reasons', async () => {
  const cases = [
    ['POST /emit/bad%2Fname HTTP/1.1\r\nContent-Length: 1\r\n\r\nx', 400],
    ['POST /emit/ HTTP/1.1\r\nContent-Length: 1\r\n\r\nx', 404],
    ['GET /nothing HTTP/1.1\r\n\r\n', 404],
    ['GET /emit/abc HTTP/1.1\r\n\r\n', 405],
    ['PUT /emit HTTP/1.1\r\nContent-Length: 0\r\n\r\n', 405],
    ['POST /emit/abc HTTP/1.1\r\n\r\n', 411],
    ['POST /emit/abc HTTP/1.1\r\nContent-Length: 1001\r\n\r\n', 413],
    [`GET /${'x'.repeat(300)} HTTP/1.1\r\n\r\n`, 414],
    ['GET /healthz HTTP/1.1\r\n' + 'X-A: 1\r\n'.repeat(11) + '\r\n', 431],
    ['NONSENSE\r\n\r\n', 400],
  ];
  for (const [req0, want] of cases) {
    // Connection: close, so raw() sees the end without waiting for a timeout.
    const req = req0.replace('\r\n', '\r\nConnection: close\r\n');
    const r = await raw(sock(), req);
    assert.equal(status(r), want, req.slice(0, 40));
    assert.match(reason(r), /^[^\n]+\n$/, `one-line reason for ${want}`);
  }
  const a = await raw(sock(), 'GET /emit/abc HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.match(a.data.toString(), /\r\nAllow: POST\r\n/);
  const big = await raw(sock(), 'POST /emit/abc HTTP/1.1\r\nContent-Length: 2000\r\n\r\n' + 'x'.repeat(2000));
  assert.equal(status(big), 413);
  assert.equal((await hd.emitReq('GET', '/healthz')).status, 200);
});

test('keep_alive_and_pipelining_answer_in_order_on_one_connection', async () => {
  const before_ = (await hd.stats()).emit_connections_accepted;
  const s = net.connect(hd.emitSock);
  let data = '';
  s.on('data', (c) => { data += c; });
  await new Promise((r) => s.on('connect', r));
  let reqs = '';
  for (let i = 0; i < 20; i++) reqs += `POST /emit/pipe HTTP/1.1\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`;
  reqs += 'GET /healthz HTTP/1.1\r\n\r\n';
  // Write in awkward pieces: the parser takes bytes as they come.
  for (let i = 0; i < reqs.length; i += 7) s.write(reqs.slice(i, i + 7));
  await until(() => (data.match(/HTTP\/1.1 /g) || []).length === 21, 5000, '21 responses');
  const ids = [...data.matchAll(/\{"id":(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(ids.length, 20);
  for (let i = 1; i < 20; i++) assert.equal(ids[i], ids[i - 1] + 1);
  assert.ok(data.trimEnd().endsWith('ok'));
  // A second round on the same socket: still one accepted connection.
  data = '';
  s.write('GET /healthz HTTP/1.1\r\n\r\n');
  await until(() => data.includes('ok'));
  const after_ = (await hd.stats()).emit_connections_accepted;
  assert.equal(after_ - before_, 2); // the pipelined socket + the stats request
  s.destroy();
});

test('stats_count_connections_messages_and_subscriptions', async () => {
  const c = await client(hd);
  await c.subscribe(hd.sign('st'));
  const s1 = await hd.stats();
  await hd.emit('st', 'x');
  await until(() => c.messages().length === 1);
  const s2 = await hd.stats();
  assert.equal(s2.messages_emitted - s1.messages_emitted, 1);
  assert.ok(s2.frames_delivered > s1.frames_delivered);
  assert.ok(s2.subscriptions >= 1);
  assert.ok(s2.ws_connections_open >= 1);
  assert.ok(s2.channels >= 1);
  for (const k of ['public_connections_accepted', 'emit_connections_accepted', 'slow_consumer_disconnects', 'bytes_written'])
    assert.equal(typeof s2[k], 'number', k);
  assert.equal(typeof s2.protocol_errors.ws_1002, 'number');
  c.close();
});

test('emit_is_not_served_on_the_public_listener', async () => {
  const r = await request({ port: hd.port, method: 'POST', path: '/emit/x', body: 'y' });
  assert.equal(r.status, 404);
});

test('non_loopback_emit_is_refused_without_a_secret_and_bearer_is_checked_with_one', async () => {
  const r = heralddSync(['--check-config', '--emit', '0.0.0.0:26300', '--listen', '127.0.0.1:1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /emit_secret_file/);
  const tokenFile = join(hd.dir, 'emit-token');
  writeFileSync(tokenFile, 'a-long-emit-token-0123456789\n', { mode: 0o600 });
  const h2 = await startHeraldd({ args: ['--emit_secret_file', tokenFile] });
  try {
    const no = await h2.emitReq('POST', '/emit/x', 'y');
    assert.equal(no.status, 401);
    const wrong = await h2.emitReq('POST', '/emit/x', 'y', { Authorization: 'Bearer a-long-emit-token-0123456780' });
    assert.equal(wrong.status, 401);
    const ok = await h2.emitReq('POST', '/emit/x', 'y', { Authorization: 'Bearer a-long-emit-token-0123456789' });
    assert.equal(ok.status, 202);
  } finally { await h2.stop(); }
});

test('config_errors_exit_2_naming_the_key', async () => {
  const r = heralddSync(['--max_queue_bytes', 'many']);
  assert.equal(r.code, 2);
  assert.match(r.err, /max_queue_bytes/);
  const u = heralddSync(['--no_such_key', '1']);
  assert.equal(u.code, 2);
  const h = heralddSync(['--help']);
  assert.equal(h.code, 0);
  for (const k of ['max_queue_bytes', 'ping_interval_ms', 'history_size', 'history_ttl_ms', 'max_connections', 'secret_file'])
    assert.match(h.out, new RegExp(`--${k} `));
  const short = join(hd.dir, 'short-secret');
  writeFileSync(short, 'tooshort\n', { mode: 0o600 });
  const s = heralddSync(['--check-config', '--secret-file', short, '--emit', 'none']);
  assert.equal(s.code, 2);
  assert.doesNotMatch(s.err, /tooshort/); // never log a secret
  const empty = join(hd.dir, 'empty-secret');
  writeFileSync(empty, '\n', { mode: 0o600 });
  assert.equal(heralddSync(['--check-config', '--secret-file', empty, '--emit', 'none']).code, 2);
  assert.equal(heralddSync(['--check-config', '--secret-file', join(hd.dir, 'missing'), '--emit', 'none']).code, 2);
});

test('readme_table_and_example_config_list_every_key_with_its_default', async () => {
  const help = heralddSync(['--help']).out;
  const keys = [...help.matchAll(/^  --(\S+)\s+\((.*)\)$/gm)].map((m) => [m[1], m[2]]);
  assert.ok(keys.length >= 20);
  const readme = readFileSync(join(top, 'README.md'), 'utf8');
  const conf = readFileSync(join(top, 'daemon/heraldd.conf'), 'utf8');
  for (const [k, d] of keys) {
    const def = d === 'empty' ? '(empty)' : '`' + d + '`';
    assert.ok(readme.includes(`| \`${k}\` | ${def} |`), `README row for ${k}`);
    assert.ok(conf.includes(`#${k} =${d === 'empty' ? '' : ' ' + d}\n`), `heraldd.conf line for ${k}`);
  }
  assert.equal(heralddSync(['--config', join(top, 'daemon/heraldd.conf'), '--check-config', '--emit', 'none']).code, 0);
});
