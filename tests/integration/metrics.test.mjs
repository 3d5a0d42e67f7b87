// /metrics: Prometheus' text format (0.0.4) on the emit listener. Parsed
// strictly here: every sample declared by one TYPE line before it, counters
// named *_total, one sample per event loop; and it agrees with /stats,
// figure for figure. Same authorization as every emit-listener route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHeraldd, client, until, request, heralddSync } from './lib/heraldd.mjs';

// name{labels} value -> { types: Map(name -> type), samples: [{ name, labels, value }] }
function parse(text) {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const types = new Map(), helps = new Set(), samples = [];
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (\S.*)$/.exec(line))) {
      assert.ok(!helps.has(m[1]), `one HELP for ${m[1]}`);
      helps.add(m[1]);
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line))) {
      assert.ok(!types.has(m[1]), `one TYPE for ${m[1]}`);
      assert.ok(helps.has(m[1]), `HELP before TYPE for ${m[1]}`);
      if (m[2] === 'counter') assert.match(m[1], /_total$/, 'counters end in _total');
      types.set(m[1], m[2]);
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*",?)*)\})? (-?[0-9]+(?:\.[0-9]+)?)$/.exec(line))) {
      assert.ok(types.has(m[1]), `TYPE declared before the sample ${m[1]}`);
      const labels = {};
      for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[k] = v;
      samples.push({ name: m[1], labels, value: Number(m[3]) });
    } else {
      assert.fail(`not a line of the text format: ${JSON.stringify(line)}`);
    }
  }
  return { types, samples };
}

const sum = (samples, name, pred = () => true) =>
  samples.filter((s) => s.name === name && pred(s.labels)).reduce((n, s) => n + s.value, 0);

test('metrics: the text format, one sample per loop, the same figures as /stats', async () => {
  const hd = await startHeraldd({ args: ['--public_channels', 'm*', '--workers', '2'] });
  try {
    const cs = [];
    for (let i = 0; i < 6; i++) {
      const c = await client(hd);
      await c.subscribe('m1');
      cs.push(c);
    }
    for (let i = 0; i < 10; i++) await hd.emit('m1', 'x' + i);
    await until(() => cs.every((c) => c.messages().length === 10), 5000, 'delivered');
    await cs[0].cmd({ type: 'bogus' }); // one protocol error (bad_command)
    // Loop 1's figures are copied at its sweep tick (<= 1 s, later on a busy
    // machine): wait until /stats shows everything, then nothing moves.
    const stats = await until(async () => {
      const x = await hd.stats();
      return x.frames_delivered === 60 && x.protocol_errors.bad_command === 1 ? x : null;
    }, 10000, 'every loop\'s figures current');
    const r = await request({ socketPath: hd.emitSock, path: '/metrics' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parse(r.body);

    // every /stats figure is a metric with one sample per loop, summing to it
    const moved = new Set(['emit_connections_accepted', 'bytes_written', 'socket_writes']); // by the requests themselves
    for (const [k, v] of Object.entries(stats)) {
      if (typeof v !== 'number' || k === 'workers' || k === 'channels') continue;
      // a figure kept in microseconds is a _seconds metric (base units)
      const secs = types.has(`herald_${k}_seconds`);
      const name = types.has(`herald_${k}_total`) ? `herald_${k}_total` : secs ? `herald_${k}_seconds` : `herald_${k}`;
      assert.ok(types.has(name), `a metric for ${k}`);
      const loops = samples.filter((s) => s.name === name).map((s) => s.labels.loop);
      assert.deepEqual(loops, ['0', '1'], `${name}: one sample per loop`);
      if (secs) assert.ok(Math.abs(sum(samples, name) * 1e6 - v) < 1, `${name} is ${k} in seconds`);
      else if (moved.has(k)) assert.ok(sum(samples, name) >= v, `${name} ${sum(samples, name)} >= ${v}`);
      else assert.equal(sum(samples, name), v, name);
    }
    for (const [kind, v] of Object.entries(stats.protocol_errors))
      assert.equal(sum(samples, 'herald_protocol_errors_total', (l) => l.kind === kind), v, kind);
    assert.equal(sum(samples, 'herald_protocol_errors_total', (l) => l.kind === 'bad_command'), 1);
    assert.equal(sum(samples, 'herald_frames_delivered_total'), 60);
    assert.equal(sum(samples, 'herald_ws_connections_open'), 6);
    for (const [i, l] of stats.loops.entries()) {
      assert.equal(sum(samples, 'herald_ws_connections_open', (x) => x.loop === String(i)), l.ws_connections, `loop ${i}'s own`);
      assert.equal(sum(samples, 'herald_frames_delivered_total', (x) => x.loop === String(i)), l.frames_delivered, `loop ${i}'s own`);
    }
    assert.equal(sum(samples, 'herald_channels'), stats.channels);
    assert.equal(sum(samples, 'herald_workers'), 2);

    // the process beside them
    const version = heralddSync(['--version']).out.trim().split(' ')[1];
    assert.equal(samples.find((s) => s.name === 'herald_build_info').labels.version, version);
    const fds = sum(samples, 'process_open_fds'), max = sum(samples, 'process_max_fds');
    assert.ok(fds >= 6 + 4 && fds < max, `open fds ${fds}, limit ${max}`);
    assert.ok(sum(samples, 'process_resident_memory_bytes') > 1e6);
    assert.ok(Math.abs(sum(samples, 'process_start_time_seconds') - Date.now() / 1000) < 60);
    assert.ok(sum(samples, 'process_cpu_seconds_total') > 0);
    for (const c of cs) c.close();
  } finally { await hd.stop(); }
});

test('metrics: GET only, and behind the emit secret like every emit route', async () => {
  const hd0 = await startHeraldd();
  try {
    const r = await request({ socketPath: hd0.emitSock, method: 'POST', path: '/metrics', body: '' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET');
  } finally { await hd0.stop(); }
  const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'herald-metrics-'));
  const token = join(dir, 'token');
  writeFileSync(token, 'metrics-token-0123456789abcdef\n', { mode: 0o600 });
  const hd = await startHeraldd({ args: ['--emit_secret_file', token] });
  try {
    const no = await request({ port: hd.emitPort, path: '/metrics' });
    assert.equal(no.status, 401);
    assert.doesNotMatch(no.body, /herald_/);
    const yes = await request({ port: hd.emitPort, path: '/metrics', headers: { Authorization: 'Bearer metrics-token-0123456789abcdef' } });
    assert.equal(yes.status, 200);
    assert.match(yes.body, /^herald_emit_unauthorized_total\{loop="0"\} 1$/m);
    assert.doesNotMatch(yes.body, /metrics-token/);
  } finally { await hd.stop(); }
});

test('metrics and stats: the most loops heraldd runs (64) fit in both answers', async () => {
  const hd = await startHeraldd({ args: ['--workers', '64'] });
  try {
    const s = await hd.stats();
    assert.equal(s.loops.length, 64);
    const r = await request({ socketPath: hd.emitSock, path: '/metrics' });
    assert.equal(r.status, 200);
    const { samples } = parse(r.body);
    assert.equal(samples.filter((x) => x.name === 'herald_frames_delivered_total').length, 64);
    assert.equal(sum(samples, 'herald_workers'), 64);
  } finally { await hd.stop(); }
});
