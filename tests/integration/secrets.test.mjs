// Secrets stay secret: heraldd refuses secret files other users can read or
// write and an emit socket others can write, gives the socket its mode and
// group, and no secret byte appears in its log, /stats or error answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startHeraldd, client, heralddSync, request, bin, freePort } from './lib/heraldd.mjs';

function secretFile(mode) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-secret-'));
  const f = join(dir, 'secret');
  writeFileSync(f, 'k1:abcdefghijklmnopqrstuvwxyz012345\n');
  chmodSync(f, mode);
  return { f, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

test('secret_files_other_users_can_read_or_write_are_refused_with_the_fix', () => {
  for (const key of ['secret_file', 'emit_secret_file']) {
    for (const [mode, what] of [[0o644, 'readable'], [0o602, 'writable']]) {
      const s = secretFile(mode);
      try {
        const r = heralddSync(['--check-config', '--emit', 'none', '--' + key, s.f]);
        assert.equal(r.code, 2, `${key} ${mode.toString(8)}`);
        assert.match(r.err, new RegExp(`${what} by every user: run chmod o-rw`));
        assert.doesNotMatch(r.err, /abcdefghij/);
      } finally { s.remove(); }
    }
    const ok = secretFile(0o640);
    try {
      assert.equal(heralddSync(['--check-config', '--emit', 'none', '--' + key, ok.f]).code, 0);
    } finally { ok.remove(); }
  }
});

test('sign_refuses_a_world_readable_secret_file_too', () => {
  const s = secretFile(0o604);
  try {
    const r = heralddSync(['sign', 'orders', '--secret_file', s.f]);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /readable by every user/);
  } finally { s.remove(); }
});

test('an_emit_socket_mode_with_the_others_write_bit_is_refused', () => {
  for (const mode of ['0666', '0662', '0772']) {
    const r = heralddSync(['--check-config', '--emit_socket_mode', mode]);
    assert.equal(r.code, 2, mode);
    assert.match(r.err, /emit_socket_mode: .* lets every user publish/);
  }
  assert.equal(heralddSync(['--check-config', '--emit', 'none', '--emit_socket_mode', '0664']).code, 0);
});

// A group heraldd may give its socket: any group when it runs as root,
// else its own primary group.
function socketGroup() {
  const groups = readFileSync('/etc/group', 'utf8').trim().split('\n').map((l) => l.split(':'))
    .map(([name, , gid]) => ({ name, gid: Number(gid) }));
  const me = userInfo();
  return groups.find((g) => (me.uid === 0 ? g.gid !== me.gid : g.gid === me.gid)) || groups.find((g) => g.gid === me.gid);
}

test('the_emit_socket_gets_the_configured_mode_and_group_whatever_the_umask', async () => {
  const g = socketGroup();
  assert.ok(g, 'a group from /etc/group');
  const old = process.umask(0); // heraldd inherits it: a socket must not be 0777 even briefly
  let a, b;
  try {
    a = await startHeraldd();
    b = await startHeraldd({ args: ['--emit_socket_mode', '0620', '--emit_socket_group', g.name] });
  } finally { process.umask(old); }
  try {
    const sa = statSync(a.emitSock);
    assert.ok(sa.isSocket());
    assert.equal(sa.mode & 0o777, 0o660, 'the default mode');
    const sb = statSync(b.emitSock);
    assert.equal(sb.mode & 0o777, 0o620);
    assert.equal(sb.gid, g.gid, `the group ${g.name}`);
    assert.equal((await b.emitReq('GET', '/healthz')).status, 200);
  } finally { await a.stop(); await b.stop(); }
  const dir = mkdtempSync(join(tmpdir(), 'herald-sock-'));
  try {
    const r = spawnSync(bin, ['--emit', 'unix:' + join(dir, 'e.sock'), '--listen', `127.0.0.1:${await freePort()}`,
      '--emit_socket_group', 'no-such-group-herald'], { encoding: 'utf8', timeout: 15000 });
    assert.equal(r.signal, null, 'exits by itself');
    assert.notEqual(r.status, 0, 'an unknown group stops the start');
    assert.match(r.stderr, /emit_socket_group no-such-group-herald/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('no_secret_byte_appears_in_the_log_stats_or_error_answers', async () => {
  const hd = await startHeraldd();
  try {
    const c = await client(hd);
    await c.subscribe(hd.sign('a'));
    const forged = hd.sign('a').slice(0, -3) + 'AAA';
    const bad = await c.subscribe(forged);
    assert.equal(bad.type, 'error');
    await hd.emitReq('POST', '/emit/bad%20name', 'x');
    const stats = (await request({ socketPath: hd.emitSock, path: '/stats' })).body;
    c.close();
    await hd.stop();
    const probe = hd.secret.slice(0, 16);
    for (const [what, text] of [['stats', stats], ['log', hd.proc.log || ''], ['answers', JSON.stringify(c.msgs)]])
      assert.ok(!text.includes(probe), `the secret shows in ${what}`);
    assert.ok((hd.proc.log || '').length > 0, 'the log was captured');
  } finally { await hd.stop(); }
});
