// Turns bench/e2e.sh's results.jsonl (one httpload JSON line per run, label
// "route/connections/repeat") into one Markdown table: per route and
// concurrency the median over the repeats (and the range of requests/s),
// latency, and the CPU each process spent per request.
// Usage: node e2e-report.js results.jsonl
'use strict';
const fs = require('fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: node e2e-report.js results.jsonl');
  process.exit(2);
}
const runs = [];
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  try {
    const r = JSON.parse(line);
    const [route, c, rep] = String(r.label).split('/');
    runs.push({ ...r, route, c: +c, rep });
  } catch (e) {
    console.error('e2e-report.js: skipping a line that is not JSON');
  }
}
const routeOrder = ['none', 'emit', 'emit_many', 'defer', 'curl2013'];
const routeNames = {
  none: 'no emit (baseline)', emit: '`Herald\\emit()`', emit_many: '`Herald\\emit_many()` of 10',
  defer: '`Herald\\defer()`', curl2013: '2013: curl → Express → socket.io',
};
// floor: bench/floor in heraldd's place (e2e.sh --floor); a column only
// when some run measured it
const procs = ['php-fpm', 'nginx', 'heraldd', 'floor', 'node'];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const med = (rs, f) => median(rs.map(f));
const total = (r) => procs.reduce((a, p) => a + ((r.cpu_us_per_req || {})[p] || 0), 0);
const signed = (v) => (v < 0 ? '−' : '+') + Math.abs(v).toFixed(1);
const fmtRate = (v) => (v >= 1e4 ? (v / 1e3).toFixed(1) + 'k' : Math.round(v).toLocaleString('en-US'));

const has = (p) => runs.some((r) => (r.cpu_us_per_req || {})[p] !== undefined);
const shown = procs.filter((p) => (p === 'floor' ? has(p) : p === 'heraldd' ? has(p) || !has('floor') : true));
// a process's CPU per request, and its system (kernel) share when httpload
// measured it: "27.1 (sys 20.3)"
const cpuCell = (rs, p) => {
  const v = med(rs, (r) => (r.cpu_us_per_req || {})[p] || 0).toFixed(1);
  if (!rs.some((r) => r.sys_us_per_req && r.sys_us_per_req[p] !== undefined)) return v;
  return `${v} (sys ${med(rs, (r) => (r.sys_us_per_req || {})[p] || 0).toFixed(1)})`;
};
const concs = [...new Set(runs.map((r) => r.c))].sort((a, b) => a - b);
const routes = routeOrder.filter((x) => runs.some((r) => r.route === x));
const head = ['route', 'c', 'req/s [min–max]', 'p50 µs', 'p99 µs',
  ...shown.map((p) => `${p} µs/req`), 'total CPU µs/req', 'added vs no emit'];
const lines = ['| ' + head.join(' | ') + ' |', '|' + head.map((h, i) => (i < 2 ? '---' : '---:')).join('|') + '|'];
for (const c of concs) {
  const base = runs.filter((r) => r.route === 'none' && r.c === c);
  const baseTotal = base.length ? med(base, total) : null;
  for (const route of routes) {
    const rs = runs.filter((r) => r.route === route && r.c === c);
    if (!rs.length) continue;
    const rps = rs.map((r) => r.req_per_s);
    let t = fmtRate(median(rps));
    if (rs.length > 1) t += ` [${fmtRate(Math.min(...rps))}–${fmtRate(Math.max(...rps))}]`;
    const tot = med(rs, total);
    const row = [routeNames[route], c, t, med(rs, (r) => r.lat_us_p50).toFixed(0), med(rs, (r) => r.lat_us_p99).toFixed(0),
      ...shown.map((p) => cpuCell(rs, p)),
      tot.toFixed(1), route === 'none' || baseTotal === null ? '—' : signed(tot - baseTotal)];
    lines.push('| ' + row.join(' | ') + ' |');
  }
}
console.log(lines.join('\n'));
console.log('\nCells: median over the repeats; CPU is each process group\'s (master and workers) CPU time between the first and the last counted request, per counted request, with its system (kernel) time in brackets (stime, clock ticks); "added" is total CPU per request minus the baseline\'s at the same c.');
const errs = runs.filter((r) => r.error || r.errors || r.timeout);
if (errs.length) {
  console.log('\nErrors:');
  for (const r of errs) console.log(`- ${r.label}: ${r.errors} errors, ${r.non_2xx} non-2xx; ${r.error}`);
}
