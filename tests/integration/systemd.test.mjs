// Running under systemd: the shipped unit file is valid and tightly
// sandboxed (systemd-analyze, offline), and heraldd speaks the readiness
// protocol: READY=1 only once it listens, RELOADING=1 then READY=1 around a
// SIGHUP, STOPPING=1 on SIGTERM. The notifications are received on a real
// Unix datagram socket (a PHP CLI process: node has no AF_UNIX datagrams).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHeraldd, until, request, top } from './lib/heraldd.mjs';

test('the unit file passes systemd-analyze verify and scores as well sandboxed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-unit-'));
  try {
    const unit = join(dir, 'heraldd.service');
    const text = readFileSync(join(top, 'daemon/heraldd.service.in'), 'utf8');
    writeFileSync(unit, text.replaceAll('@BINDIR@', join(top, 'daemon')));
    // verify exits 0 even for an unknown key: any output is a finding
    const out = execFileSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out, '');
    const sec = execFileSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const level = Number(/Overall exposure level for heraldd\.service: ([0-9.]+)/.exec(sec)[1]);
    assert.ok(level <= 2.0, `exposure ${level} (0 best, 10 worst)`);
    assert.match(text, /^Type=notify$/m);
    assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

// A PHP CLI process bound to a datagram socket, printing each datagram.
function notifyReceiver(path) {
  const php = `$s = stream_socket_server('udg://' . $argv[1], $no, $err, STREAM_SERVER_BIND);
    if (!$s) { fwrite(STDERR, "$err\\n"); exit(1); }
    $end = microtime(true) + 30;
    while (microtime(true) < $end) {
      $r = [$s]; $w = $e = null;
      if (stream_select($r, $w, $e, 0, 200000)) { echo stream_socket_recvfrom($s, 4096), "\\n--\\n"; }
    }`;
  const p = spawn('php', ['-n', '-r', php, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  p.got = [];
  let buf = '';
  p.stdout.on('data', (b) => {
    buf += b;
    let i;
    while ((i = buf.indexOf('\n--\n')) >= 0) { p.got.push(buf.slice(0, i)); buf = buf.slice(i + 4); }
  });
  return p;
}

test('heraldd notifies systemd: READY once listening, RELOADING/READY on SIGHUP, STOPPING on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-notify-'));
  const sock = join(dir, 'notify.sock');
  const rx = notifyReceiver(sock);
  try {
    await until(() => existsSync(sock), 5000, 'the receiver bound');
    const hd = await startHeraldd({ env: { NOTIFY_SOCKET: sock } });
    try {
      await until(() => rx.got.length >= 1, 5000, 'READY=1');
      assert.deepEqual(rx.got, ['READY=1']);
      // ready means listening: both listeners answer
      assert.equal((await request({ port: hd.port, path: '/healthz' })).status, 200);
      assert.equal((await request({ socketPath: hd.emitSock, path: '/healthz' })).status, 200);
      hd.proc.kill('SIGHUP');
      await until(() => rx.got.length >= 3, 5000, 'RELOADING=1, READY=1');
      assert.deepEqual(rx.got.slice(1), ['RELOADING=1', 'READY=1']);
      assert.equal((await hd.stats()).reloads, 1);
    } finally {
      const exit = await hd.stop();
      assert.equal(exit.code, 0);
    }
    await until(() => rx.got.length >= 4, 5000, 'STOPPING=1');
    assert.equal(rx.got[3], 'STOPPING=1');
  } finally {
    rx.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without NOTIFY_SOCKET, or with one that is not an address, heraldd runs as usual', async () => {
  for (const env of [{}, { NOTIFY_SOCKET: 'relative/path' }, { NOTIFY_SOCKET: '/nonexistent/dir/sock' }]) {
    const hd = await startHeraldd({ env });
    try {
      assert.equal((await request({ port: hd.port, path: '/healthz' })).status, 200);
    } finally {
      assert.equal((await hd.stop()).code, 0);
    }
  }
});
