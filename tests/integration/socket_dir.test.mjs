// The emit socket's directory (issue 11, item 11): one that another user
// could write to (and so replace the socket and read every emit) is
// refused at start; `heraldd sign --ttl` refuses what would wrap (item 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, chmodSync, chownSync, rmSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, heralddSync, until } from './lib/heraldd.mjs';

// Start heraldd with an emit socket in dir for at most 1.5 s: did it
// listen there, or refuse (exit status), and what did it log?
async function check(dir, env = {}) {
  const r = spawnSync(bin, ['--emit', 'unix:' + join(dir, 'e.sock'), '--listen', `127.0.0.1:${await freePort()}`],
    { encoding: 'utf8', timeout: 1500, env: { ...process.env, ...env } });
  const listened = /listening on unix:/.test(r.stderr);
  return { status: listened ? 0 : r.status === 0 ? -1 : 2, err: r.stderr };
}

test('an_emit_socket_directory_others_can_write_is_refused', async () => {
  const top = mkdtempSync(join(tmpdir(), 'herald-dir-'));
  try {
    const open = join(top, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await check(open);
    assert.equal(r.status, 2, r.err);
    assert.match(r.err, /emit socket directory .*open \(mode 0777.*replace the socket/);

    const group = join(top, 'group');
    mkdirSync(group);
    chmodSync(group, 0o770);
    assert.equal((await check(group)).status, 2);
    // ... unless it is heraldd's own runtime directory (systemd RuntimeDirectory=).
    assert.equal((await check(group, { RUNTIME_DIRECTORY: group })).status, 0);

    // A directory on the way up counts as much as the last one.
    const deep = join(open, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    assert.equal((await check(deep)).status, 2);

    // Sticky (like /tmp): nobody else can rename or remove heraldd's socket.
    const sticky = join(top, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    assert.equal((await check(sticky)).status, 0, 'sticky is fine');

    if (userInfo().uid === 0) { // a directory owned by another user
      const theirs = join(top, 'theirs');
      mkdirSync(theirs);
      chownSync(theirs, 1, 1);
      assert.equal((await check(theirs)).status, 2);
    }
    const mine = join(top, 'mine');
    mkdirSync(mine, { mode: 0o755 });
    const ok = await check(mine);
    assert.equal(ok.status, 0, ok.err);
  } finally { rmSync(top, { recursive: true, force: true }); }
});

// A user other than root cannot take a supplementary group with setegid:
// the socket is born owner-only, then given its group and mode without
// following a symlink. Run as nobody with group adm (needs root and setpriv).
test('a_non_root_daemon_gives_the_socket_its_group_and_mode', { skip: userInfo().uid !== 0 || !existsSync('/usr/bin/setpriv') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-dir-'));
  try {
    chownSync(dir, 65534, 65534);
    const sock = join(dir, 'e.sock');
    const p = spawn('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--groups=4', bin, '--emit', 'unix:' + sock,
      '--listen', `127.0.0.1:${await freePort()}`, '--emit_socket_group', 'adm', '--emit_socket_mode', '0620'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    p.stderr.on('data', (b) => { log += b; });
    const exited = new Promise((r) => p.on('exit', r));
    try {
      await until(() => /heraldd ready/.test(log) || p.exitCode !== null, 5000, 'heraldd ready');
      const st = statSync(sock);
      assert.ok(st.isSocket(), log);
      assert.equal(st.mode & 0o777, 0o620);
      assert.equal(st.gid, 4);
      assert.equal(st.uid, 65534);
    } finally { p.kill('SIGTERM'); await exited; }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('sign_ttl_out_of_range_is_refused_instead_of_wrapping', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sign-'));
  try {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'a-secret-of-enough-bytes-0123456789\n', { mode: 0o600 });
    const sign = (ttl) => heralddSync(['sign', 'orders', '--ttl', ttl, '--secret-file', secret, '--emit', 'none']);
    for (const ttl of ['18446744073709551615', '18446744073709551616', '99999999999999999999999', '3155760001', '-1', '1e9', '']) {
      const r = sign(ttl);
      assert.equal(r.code, 2, `--ttl ${ttl}: ${r.out}`);
      assert.match(r.err, /--ttl needs whole seconds from 0/);
    }
    const now = Math.floor(Date.now() / 1000);
    const ok = sign('3600');
    assert.equal(ok.code, 0);
    const expiry = Number(ok.out.trim().split('.').at(-2));
    assert.ok(expiry >= now + 3599 && expiry <= now + 3700, String(expiry));
    assert.equal(sign('3155760000').code, 0);
    assert.match(sign('0').out, /~v1\.[^.]+\.0\./); // never expires
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
