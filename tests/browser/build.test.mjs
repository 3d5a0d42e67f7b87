// client/build.sh: both outputs are valid JS (node --check) and work as what
// they claim to be — a classic script setting globalThis.Herald, an ES
// module exporting it — and a source without the markers is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';

const top = new URL('../../', import.meta.url).pathname;
const build = join(top, 'client/build.sh');
const src = join(top, 'client/herald.js');
const dir = mkdtempSync(join(tmpdir(), 'herald-build-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('classic_output_passes_node_check_and_sets_global_Herald', () => {
  const out = join(dir, 'herald.js');
  execFileSync(build, [src, out, 'classic']);
  assert.equal(spawnSync(process.execPath, ['--check', out]).status, 0);
  const ctx = vm.createContext({ URL, queueMicrotask, setTimeout, clearTimeout });
  ctx.globalThis = ctx;
  vm.runInContext(readFileSync(out, 'utf8'), ctx);
  assert.equal(typeof ctx.Herald.connect, 'function');
  // Loading it twice (two script tags) must not throw a redeclaration error.
  vm.runInContext(readFileSync(out, 'utf8'), ctx);
});

test('module_output_passes_node_check_and_exports_Herald', async () => {
  const out = join(dir, 'herald.mjs');
  execFileSync(build, [src, out, 'module']);
  assert.equal(spawnSync(process.execPath, ['--check', out]).status, 0);
  const m = await import(out);
  assert.equal(typeof m.default.connect, 'function');
  assert.equal(m.Herald, m.default);
});

test('outputs_differ_from_the_source_only_at_the_marker_lines', () => {
  const s = readFileSync(src, 'utf8').split('\n');
  for (const kind of ['classic', 'module']) {
    const out = join(dir, 'x.' + kind);
    execFileSync(build, [src, out, kind]);
    const o = readFileSync(out, 'utf8').split('\n');
    assert.equal(o.length, s.length);
    const diff = s.map((l, i) => (l === o[i] ? -1 : i)).filter((i) => i >= 0);
    assert.deepEqual(diff.map((i) => s[i]), ['/*@herald:head*/', '/*@herald:tail*/']);
  }
});

test('source_without_markers_or_bad_kind_is_refused', () => {
  const bad = join(dir, 'bad.js');
  writeFileSync(bad, 'const Herald = {};\n');
  assert.notEqual(spawnSync(build, [bad, join(dir, 'o.js'), 'classic']).status, 0);
  assert.notEqual(spawnSync(build, [src, join(dir, 'o.js'), 'amd']).status, 0);
});

// client/README.md "Size": under 4 KB minified and gzipped, both outputs.
test('minified_gzipped_size_stays_under_the_4_KB_budget', () => {
  for (const kind of ['classic', 'module']) {
    const out = execFileSync(join(top, 'client/size.sh'), [kind], { encoding: 'utf8' });
    const gz = Number(/(\d+) minified\+gzip/.exec(out)[1]);
    assert.ok(gz > 1000 && gz < 4096, `${kind}: ${out.trim()}`);
  }
});
