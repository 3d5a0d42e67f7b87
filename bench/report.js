// Turns bench/run.sh's results.jsonl (one loadgen JSON line per run, label
// "server/scenario/repeat") into one Markdown table: per figure the median
// over the repeats, the range, and the ratio to socket.io.
// Usage: node report.js results.jsonl
'use strict';
const fs = require('fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: node report.js results.jsonl');
  process.exit(2);
}
const runs = [];
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  try {
    const r = JSON.parse(line);
    const [server, scenario, rep] = String(r.label).split('/');
    runs.push({ ...r, server, scenario, rep });
  } catch (e) {
    console.error('report.js: skipping a line that is not JSON');
  }
}

const order = ['heraldd', 'heraldd-auto', 'heraldd-2', 'base', 'base-auto', 'heraldd-sio', 'heraldd-pusher', 'laravel-echo-server', 'heraldd-cluster', 'base-cluster', 'heraldd-cluster-all', 'base-cluster-all', 'socketio', 'socketio-cluster', 'ws', 'nchan', 'floor'];
const names = { heraldd: 'heraldd (1 worker)', 'heraldd-auto': 'heraldd (workers auto)', 'heraldd-2': 'heraldd (2 workers)', base: 'baseline (1 worker)', 'base-auto': 'baseline (workers auto)', 'heraldd-sio': 'heraldd (socket.io clients)', 'heraldd-pusher': 'heraldd (Pusher clients)', 'laravel-echo-server': 'laravel-echo-server 1.6', 'heraldd-cluster': 'heraldd 3 nodes + Redis, emits via one', 'heraldd-cluster-all': 'heraldd 3 nodes + Redis, emits via all', 'base-cluster': 'baseline 3 nodes, via one', 'base-cluster-all': 'baseline 3 nodes, via all', socketio: 'socket.io 4', 'socketio-cluster': 'socket.io 4, 3 nodes + redis-adapter', ws: 'ws 8', nchan: 'nginx+nchan', floor: 'floor (kernel only)' };
const clustered = (s) => s.endsWith('-cluster') || s.endsWith('-cluster-all');
const servers = order.filter((s) => runs.some((r) => r.server === s));

// [scenario, field, title, formatter, higher is better]
const figures = [
  ['a', 'delivered_per_s', '(a) {N} subs × burst of {M}: delivered msg/s', (v) => fmtCount(v), true],
  ['a', 'cpu_us_per_frame', '(a) server CPU µs per delivered frame', (v) => v.toFixed(2), false],
  ['a', 'lat_us_p99', '(a) p99 latency under burst, ms', (v) => (v / 1000).toFixed(1), false],
  ['ap', 'delivered_per_s', '(ap) the same burst, 32 emits pipelined: delivered msg/s', (v) => fmtCount(v), true],
  ['ap', 'cpu_us_per_frame', '(ap) server CPU µs per delivered frame', (v) => v.toFixed(2), false],
  ['p1', 'delivered_per_s', '(p1) {N} subs, 1 publisher, one emit at a time: delivered msg/s', (v) => fmtCount(v), true],
  ['p1', 'cpu_us_per_frame', '(p1) server CPU µs per delivered frame', (v) => v.toFixed(2), false],
  ['p8', 'delivered_per_s', '(p8) {N} subs, 8 publishers, one emit at a time each: delivered msg/s', (v) => fmtCount(v), true],
  ['p8', 'cpu_us_per_frame', '(p8) server CPU µs per delivered frame', (v) => v.toFixed(2), false],
  ['b1', 'lat_us_p50', '(b1) {N} subs × {R} msg/s: p50 latency, ms', (v) => (v / 1000).toFixed(2), false],
  ['b1', 'lat_us_p99', '(b1) {N} subs × {R} msg/s: p99 latency, ms', (v) => (v / 1000).toFixed(2), false],
  ['b1', 'lat_us_max', '(b1) {N} subs × {R} msg/s: max latency, ms', (v) => (v / 1000).toFixed(1), false],
  ['b1', 'cpu_us_per_frame', '(b1) server CPU µs per delivered frame', (v) => v.toFixed(2), false],
  ['b2', 'lat_us_p99', '(b2) {N} subs × {R} msg/s: p99 latency, ms', (v) => (v / 1000).toFixed(2), false],
  ['b2', 'cpu_us_per_frame', '(b2) server CPU µs per delivered frame', (v) => v.toFixed(2), false],
  ['x', 'lat_us_p50', '(x) {N} subs × {R} single emits/s (cluster: subscribers on the other nodes): p50 latency, ms', (v) => (v / 1000).toFixed(3), false],
  ['x', 'lat_us_p99', '(x) p99 latency, ms', (v) => (v / 1000).toFixed(2), false],
  ['a', 'loadgen_cpu_ms', '(a) load generator CPU, s (same 2 cores; not ranked)', (v) => (v / 1000).toFixed(2), null],
  ['c', 'rss_bytes_per_conn', '(c) {N} idle: RSS per connection, bytes', (v) => fmtCount(v), false],
  ['c', 'connects_per_s', '(c) connection set-up rate, conn/s', (v) => fmtCount(v), true],
];

// A cluster's Redis apart, and nodes + Redis together (µs per frame).
for (const r of runs) if (r.aux_cpu_us_per_frame >= 0) r.total_cpu_us_per_frame = r.cpu_us_per_frame + r.aux_cpu_us_per_frame;
if (runs.some((r) => r.aux_cpu_us_per_frame >= 0)) {
  const at = figures.findIndex((f) => f[0] === 'a' && f[1] === 'loadgen_cpu_ms');
  const extra = [];
  for (const scn of ['a', 'ap', 'p1', 'p8', 'b2']) {
    extra.push([scn, 'aux_cpu_us_per_frame', `(${scn}) cluster: redis-server CPU µs per delivered frame`, (v) => v.toFixed(2), null]);
    extra.push([scn, 'total_cpu_us_per_frame', `(${scn}) cluster: nodes + redis-server CPU µs per delivered frame`, (v) => v.toFixed(2), null]);
  }
  figures.splice(at, 0, ...extra);
}

// The server's CPU per frame split into system (kernel) and user time, in
// the proportion of stime to utime (/proc/PID/stat, clock ticks).
for (const r of runs) {
  const us = (r.server_user_ms || 0) + (r.server_sys_ms || 0);
  if (r.cpu_us_per_frame >= 0 && r.server_sys_ms >= 0 && us > 0) {
    r.sys_us_per_frame = r.cpu_us_per_frame * r.server_sys_ms / us;
    r.user_us_per_frame = r.cpu_us_per_frame * r.server_user_ms / us;
  }
}
if (runs.some((r) => r.sys_us_per_frame >= 0)) {
  const at = figures.findIndex((f) => f[0] === 'a' && f[1] === 'loadgen_cpu_ms');
  const extra = [];
  for (const scn of ['a', 'ap', 'p1', 'p8', 'b1', 'b2']) {
    extra.push([scn, 'user_us_per_frame', `(${scn}) of which user (the server's own code) µs per frame`, (v) => v.toFixed(2), null]);
    extra.push([scn, 'sys_us_per_frame', `(${scn}) of which system (kernel) µs per frame`, (v) => v.toFixed(2), null]);
  }
  figures.splice(at, 0, ...extra);
}

function fmtCount(v) {
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  if (Math.abs(v) >= 1e3) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(0);
}

function fmtFig(v) {
  if (Math.abs(v) >= 1e4) return fmtCount(v);
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function cell(server, scenario, field) {
  const rs = runs.filter((r) => r.server === server && r.scenario === scenario);
  const vs = rs.map((r) => r[field]).filter((v) => typeof v === 'number' && v >= 0);
  if (!vs.length) return null;
  return { med: median(vs), min: Math.min(...vs), max: Math.max(...vs), n: vs.length };
}

const head = ['figure', ...servers.map((s) => names[s])];
const lines = ['| ' + head.join(' | ') + ' |', '|' + head.map(() => '---').join('|') + '|'];
for (const [scn, field, title, fmt, higher] of figures) {
  if (!runs.some((r) => r.scenario === scn)) continue;
  const base = cell('socketio', scn, field);
  // a cluster is compared with socket.io's cluster
  const cbase = cell('socketio-cluster', scn, field);
  const r0 = runs.find((r) => r.scenario === scn && r.clients) || {};
  const row = [title.replace('{N}', (r0.clients || 0).toLocaleString('en-US')).replace('{R}', r0.rate).replace('{M}', r0.messages)];
  for (const s of servers) {
    const c = cell(s, scn, field);
    if (!c) {
      row.push('—');
      continue;
    }
    let t = fmt(c.med);
    if (c.n > 1) t += ` [${fmt(c.min)}–${fmt(c.max)}]`;
    const b = clustered(s) ? cbase : base;
    if (higher !== null && b && b.med > 0 && s !== 'socketio' && s !== 'socketio-cluster') {
      // Ratios read "times better than socket.io" whichever way is better.
      const ratio = higher ? c.med / b.med : b.med / Math.max(c.med, 1e-9);
      t += ` ×${ratio.toFixed(2)}`;
    }
    row.push(t);
  }
  lines.push('| ' + row.join(' | ') + ' |');
}

// Losses and failures: every subscriber must get every message.
const lossRow = ['lost / expected messages (all runs)'];
const failRow = ['failed connections / errors (all runs)'];
for (const s of servers) {
  const rs = runs.filter((r) => r.server === s);
  const lost = rs.reduce((a, r) => a + (r.lost || 0), 0);
  const exp = rs.reduce((a, r) => a + (r.expected || 0), 0);
  lossRow.push(`${lost} / ${fmtCount(exp)}`);
  const failed = rs.reduce((a, r) => a + (r.connect_failed || 0), 0);
  const errs = rs.filter((r) => r.error || r.timeout).length;
  failRow.push(`${failed} / ${errs}`);
}
lines.push('| ' + lossRow.join(' | ') + ' |');
lines.push('| ' + failRow.join(' | ') + ' |');
console.log(lines.join('\n'));
console.log('\nCells: median over the repeats [min–max]; ×N = how many times better than socket.io 4 (higher delivered/s or connect rate, or lower CPU, latency, RSS); a cluster against socket.io\'s cluster.');

// run.sh --baseline: this tree's heraldd against the baseline binary, run
// for run: the change in the figures a refactor must not move.
if (servers.some((s) => s.startsWith('base'))) {
  const checks = [['a', 'delivered_per_s', '(a) delivered msg/s', true], ['a', 'cpu_us_per_frame', '(a) CPU µs per frame', false],
    ['ap', 'delivered_per_s', '(ap) delivered msg/s', true], ['ap', 'cpu_us_per_frame', '(ap) CPU µs per frame', false],
    ['p1', 'delivered_per_s', '(p1) delivered msg/s', true], ['p1', 'cpu_us_per_frame', '(p1) CPU µs per frame', false],
    ['p8', 'delivered_per_s', '(p8) delivered msg/s', true], ['p8', 'cpu_us_per_frame', '(p8) CPU µs per frame', false],
    ['b1', 'cpu_us_per_frame', '(b1) CPU µs per frame', false], ['b2', 'lat_us_p99', '(b2) p99 latency µs', false],
    ['c', 'rss_bytes_per_conn', '(c) RSS bytes per connection', false]];
  const rows = [];
  for (const [scn, field, title, higher] of checks) {
    const row = [title];
    let any = false;
    for (const [mine, base] of [['heraldd', 'base'], ['heraldd-auto', 'base-auto'], ['heraldd-cluster', 'base-cluster'], ['heraldd-cluster-all', 'base-cluster-all']]) {
      const m = cell(mine, scn, field), b = cell(base, scn, field);
      if (!m || !b) { row.push('—'); continue; }
      any = true;
      const change = (m.med / b.med - 1) * 100;
      // "worse" only where the ranges of the repeats do not overlap: on a
      // shared machine a median alone moves by tens of percent.
      const apart = m.n > 1 && b.n > 1 && (m.min > b.max || m.max < b.min);
      const worse = apart && (higher ? change < 0 : change > 0);
      const range = (c) => (c.n > 1 ? ` [${fmtFig(c.min)}–${fmtFig(c.max)}]` : '');
      row.push(`${fmtFig(b.med)}${range(b)} → ${fmtFig(m.med)}${range(m)} (${change >= 0 ? '+' : ''}${change.toFixed(1)} %${worse ? ', worse: ranges apart' : ''})`);
    }
    if (any) rows.push('| ' + row.join(' | ') + ' |');
  }
  if (rows.length) {
    console.log('\nThis heraldd against the baseline (medians [range], baseline → this; "worse" only where the ranges do not overlap):\n');
    console.log('| figure | 1 worker | workers auto | cluster via one | cluster via all |');
    console.log('|---|---|---|---|---|');
    console.log(rows.join('\n'));
  }
}

// workers = auto against one loop, scenario by scenario (issue 17's
// target: auto never below 1 loop in delivered/s, never >10 % above in CPU).
if (servers.includes('heraldd') && servers.includes('heraldd-auto')) {
  const rows = [];
  for (const scn of ['a', 'p1', 'p8', 'b1', 'b2']) {
    const d1 = cell('heraldd', scn, 'delivered_per_s'), d2 = cell('heraldd-auto', scn, 'delivered_per_s');
    const c1 = cell('heraldd', scn, 'cpu_us_per_frame'), c2 = cell('heraldd-auto', scn, 'cpu_us_per_frame');
    if (!d1 || !d2 || !c1 || !c2) continue;
    const rate = scn === 'b1' || scn === 'b2'; // fixed rate: delivered/s is the rate
    rows.push(`| ${scn} | ${rate ? '(fixed rate)' : fmtCount(d1.med) + ' → ' + fmtCount(d2.med) + ' (×' + (d2.med / d1.med).toFixed(2) + ')'} | ` +
      `${c1.med.toFixed(2)} → ${c2.med.toFixed(2)} (×${(c2.med / c1.med).toFixed(2)}) |`);
  }
  if (rows.length) {
    console.log('\nworkers = auto against 1 loop (medians):\n');
    console.log('| scenario | delivered msg/s, 1 loop → auto | server CPU µs per frame, 1 loop → auto |');
    console.log('|---|---|---|');
    console.log(rows.join('\n'));
  }
}

// heraldd's per-loop /stats after each run (bench/run.sh writes stats.jsonl
// beside results.jsonl): how connections and fan-out spread over the loops.
const statsFile = require('path').join(require('path').dirname(file), 'stats.jsonl');
if (fs.existsSync(statsFile)) {
  const rows = [];
  for (const line of fs.readFileSync(statsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r;
    try { r = JSON.parse(line); } catch (e) { continue; }
    const loops = r.stats && r.stats.loops;
    // Every heraldd run, one loop too: frames per write shows whether a
    // loop coalesced its subscribers' frames (issue 17).
    if (!loops || !loops.length) continue;
    const col = (k) => loops.map((l) => fmtCount(l[k] || 0)).join(' / ');
    const fpw = loops.map((l) => (l.socket_writes ? (l.frames_delivered / l.socket_writes).toFixed(1) : '—')).join(' / ');
    rows.push(`| ${r.label} | ${col('connections_accepted')} | ${col('frames_delivered')} | ${fpw} |`);
  }
  if (rows.length) {
    console.log('\nPer loop (heraldd; with several workers loop 0 / loop 1 / …):\n');
    console.log('| run | connections accepted | frames delivered | frames per socket write |');
    console.log('|---|---|---|---|');
    console.log(rows.join('\n'));
  }
}
// The cluster against one node in the same run (issue 13's targets).
if (servers.includes('heraldd') && servers.some(clustered)) {
  const rows = [];
  const ratio = (scn, field, s, base) => {
    const m = cell(s, scn, field), b = cell(base, scn, field);
    return m && b && b.med > 0 ? m.med / b.med : null;
  };
  for (const s of servers.filter(clustered)) {
    const base = s.startsWith('socketio') ? 'socketio' : 'heraldd';
    const row = [names[s] + ' ÷ ' + names[base]];
    for (const scn of ['a', 'ap', 'p1', 'p8', 'b2']) {
      const r = ratio(scn, 'cpu_us_per_frame', s, base), t = ratio(scn, 'total_cpu_us_per_frame', s, base);
      row.push(r === null ? '—' : `×${r.toFixed(2)}${t === null ? '' : ` (with Redis ×${t.toFixed(2)})`}`);
    }
    const p = ratio('b2', 'lat_us_p99', s, base);
    row.push(p === null ? '—' : `×${p.toFixed(2)}`);
    const x = cell(s, 'x', 'lat_us_p50'), x0 = cell(base, 'x', 'lat_us_p50');
    row.push(x && x0 ? `${((x.med - x0.med) / 1000).toFixed(3)} ms` : '—');
    rows.push('| ' + row.join(' | ') + ' |');
  }
  if (rows.length) {
    console.log('\nCluster against one node of the same server (medians; CPU of all nodes, Redis apart; targets: CPU ≤ ×1.3, b2 p99 ≤ ×1.5, x p50 + < 1 ms):\n');
    console.log('| cluster ÷ single | (a) CPU/frame | (ap) CPU/frame | (p1) CPU/frame | (p8) CPU/frame | (b2) CPU/frame | (b2) p99 | (x) p50 added |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(rows.join('\n'));
  }
}

const errors = runs.filter((r) => r.error);
if (errors.length) {
  console.log('\nErrors:');
  for (const r of errors) console.log(`- ${r.label}: ${r.error}`);
}
