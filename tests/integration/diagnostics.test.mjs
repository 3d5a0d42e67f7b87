// What an operator sees (issue 16, item 12): typos name the key meant,
// sections are refused, a hand-run heraldd leaves no directory behind,
// HEAD works where GET does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startHeraldd, heralddSync, bin, freePort, until, request } from './lib/heraldd.mjs';

test('a_misspelt_key_names_the_key_meant_and_sections_are_refused', () => {
  let r = heralddSync(['--check-config', '--secert-file', '/x']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown key 'secert-file' \(did you mean 'secret_file'\?\)/);
  const dir = mkdtempSync(join(tmpdir(), 'herald-diag-'));
  try {
    writeFileSync(join(dir, 'a.conf'), '[heraldd]\nlisten = 127.0.0.1:9\n');
    r = heralddSync(['--check-config', '--config', join(dir, 'a.conf')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /a\.conf:1: sections like \[heraldd\] are not used/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a_socket_directory_heraldd_made_goes_when_it_stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-diag-'));
  const run = join(dir, 'run-herald');
  const port = await freePort();
  const p = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--emit', `unix:${run}/emit.sock`, '--log_level', 'warn'], { stdio: 'ignore' });
  try {
    await until(() => existsSync(join(run, 'emit.sock')), 10000, 'socket');
    process.kill(p.pid, 'SIGTERM');
    await new Promise((res) => p.once('exit', res));
    assert.equal(existsSync(run), false, 'the directory heraldd created is gone');
    // One it did not create stays.
    const p2 = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--emit', `unix:${dir}/emit.sock`, '--log_level', 'warn'], { stdio: 'ignore' });
    await until(() => existsSync(join(dir, 'emit.sock')), 10000, 'socket');
    process.kill(p2.pid, 'SIGTERM');
    await new Promise((res) => p2.once('exit', res));
    assert.equal(existsSync(dir), true);
  } finally { if (p.exitCode === null) p.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); }
});

test('head_answers_like_get_without_a_body', async () => {
  const hd = await startHeraldd();
  try {
    for (const path of ['/herald.js', '/healthz']) {
      const get = await request({ port: hd.port, path });
      const head = await request({ port: hd.port, path, method: 'HEAD' });
      assert.equal(head.status, 200, path);
      assert.equal(head.headers['content-length'], get.headers['content-length'], path);
      assert.equal(head.body, '', path);
    }
    const r = await request({ port: hd.port, path: '/ws', method: 'HEAD' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET');
    const e = await request({ socketPath: hd.emitSock, path: '/healthz', method: 'HEAD' });
    assert.equal(e.status, 200);
    assert.equal(e.body, '');
  } finally { await hd.stop(); }
});
