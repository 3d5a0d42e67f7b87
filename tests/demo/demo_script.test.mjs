// scripts/demo as a user runs it: its port flags, the page and heraldd on
// those ports, Ctrl-C (SIGINT) stopping both quietly, no node involved.
// Run by tests/suites/87-demo-script.sh (heraldd and the extension built).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { until, freePort } from '../integration/lib/heraldd.mjs';

const top = new URL('../../', import.meta.url).pathname;

// node and npm on PATH are shims that leave a mark if the demo calls them.
const shims = mkdtempSync(join(tmpdir(), 'herald-shims-'));
const marks = join(shims, 'called');
for (const n of ['node', 'npm', 'npx']) {
  writeFileSync(join(shims, n), `#!/bin/sh\necho "${n} $*" >>'${marks}'\nexit 1\n`);
  chmodSync(join(shims, n), 0o755);
}
process.on('exit', () => rmSync(shims, { recursive: true, force: true }));

// Start the demo (libuv gives the child default signal dispositions, so
// SIGINT reaches it as Ctrl-C would); collects its output.
function demo(args) {
  const p = spawn(join(top, 'scripts/demo'), args, { stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${shims}:${process.env.PATH}` } });
  p.out = '';
  p.stdout.on('data', (b) => { p.out += b; });
  p.stderr.on('data', (b) => { p.out += b; });
  p.done = new Promise((r) => p.once('exit', (code, signal) => r({ code, signal })));
  return p;
}

const listening = (port) => new Promise((r) => {
  const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
  c.on('error', () => r(false));
});

test('demo_runs_on_the_ports_given_and_ctrl_c_stops_it_quietly', { timeout: 120000 }, async () => {
  const [phpPort, hdPort] = [await freePort(), await freePort()];
  const p = demo(['--port', String(phpPort), '--heraldd-port', String(hdPort)]);
  try {
    await until(() => { if (p.exitCode !== null) throw new Error('demo exited: ' + p.out); return p.out.includes('Ctrl-C stops both'); },
      90000, 'the demo to be ready');
    assert.match(p.out, new RegExp(`open  http://127\\.0\\.0\\.1:${phpPort}/`));
    assert.match(p.out, new RegExp(`ws://127\\.0\\.0\\.1:${hdPort}`));
    const login = await fetch(`http://127.0.0.1:${phpPort}/login`);
    assert.equal(login.status, 200);
    const js = await fetch(`http://127.0.0.1:${hdPort}/herald.js`);
    assert.equal(js.status, 200, 'heraldd answers on --heraldd-port');
    const sock = p.out.match(/emit socket  (\S+)/)[1];

    process.kill(p.pid, 'SIGINT');
    const { code } = await p.done;
    assert.equal(code, 0, p.out);
    assert.match(p.out, /demo: stopped\n$/);
    assert.doesNotMatch(p.out, /exited|the end of its log/);
    assert.equal(await listening(phpPort), false, 'php -S stopped');
    assert.equal(await listening(hdPort), false, 'heraldd stopped');
    assert.equal(existsSync(sock), false, 'the temp dir is gone');
    assert.equal(existsSync(marks), false, 'node or npm was called: ' + (existsSync(marks) ? marks : ''));
  } finally { if (p.exitCode === null) p.kill('SIGKILL'); }
});

test('demo_refuses_a_taken_heraldd_port_and_bad_options_clearly', { timeout: 60000 }, async () => {
  const busy = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.once('listening', r));
  try {
    const taken = demo(['--heraldd-port', String(busy.address().port)]);
    assert.equal((await taken.done).code, 2);
    assert.match(taken.out, new RegExp(`port ${busy.address().port} \\(--heraldd-port\\) is taken; choose another`));
  } finally { busy.close(); }
  const bad = demo(['--heraldd-port', 'eighty']);
  assert.equal((await bad.done).code, 2);
  assert.match(bad.out, /--heraldd-port needs a port number \(1-65535\), got 'eighty'/);
  const unknown = demo(['--verbose']);
  assert.equal((await unknown.done).code, 2);
  assert.match(unknown.out, /unknown option '--verbose'/);
  assert.match(unknown.out, /Usage: scripts\/demo/);
});
