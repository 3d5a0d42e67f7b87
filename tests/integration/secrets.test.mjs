// Secrets stay secret: heraldd refuses secret files other users can read or
// write and an emit socket others can write, and no secret byte appears in
// its log, /stats or error answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHeraldd, client, heralddSync, request } from './lib/heraldd.mjs';

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
