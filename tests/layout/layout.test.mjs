// The daemon's layout rules (issue: core layout), checked on the sources:
// a module is NAME.c + NAME.h, dependencies between modules point one way
// (no #include "..." cycle), and no source file grows past 700 lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const daemon = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'daemon');
// client_js.h is generated (herald.js as bytes), not a module.
const files = readdirSync(daemon).filter((f) => /\.[ch]$/.test(f) && f !== 'client_js.h');
const modules = [...new Set(files.map((f) => f.slice(0, -2)))];

// Module -> the modules its .c and .h include (its own header excluded).
export function includeGraph(dir, mods) {
  const graph = new Map();
  for (const m of mods) {
    const deps = new Set();
    for (const ext of ['.c', '.h']) {
      const p = join(dir, m + ext);
      if (!existsSync(p)) continue;
      for (const [, inc] of readFileSync(p, 'utf8').matchAll(/^\s*#\s*include\s+"([^"/]+)\.h"/gm))
        if (inc !== m && mods.includes(inc)) deps.add(inc);
    }
    graph.set(m, deps);
  }
  return graph;
}

// One cycle as a path [a, b, ..., a], or null.
export function findCycle(graph) {
  const state = new Map();
  const stack = [];
  const visit = (m) => {
    state.set(m, 1);
    stack.push(m);
    for (const d of graph.get(m) ?? []) {
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(m, 2);
    return null;
  };
  for (const m of graph.keys()) if (!state.has(m)) { const c = visit(m); if (c) return c; }
  return null;
}

test('the cycle finder finds a cycle (self-check)', () => {
  const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set()]]);
  assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', new Set(['b'])], ['b', new Set()]])), null);
});

test('no #include cycle among daemon modules', () => {
  const cycle = findCycle(includeGraph(daemon, modules));
  assert.equal(cycle, null, `include cycle: ${cycle?.join(' -> ')}`);
});

test('no daemon source file over 700 lines', () => {
  const long = files
    .map((f) => [f, readFileSync(join(daemon, f), 'utf8').split('\n').length - 1])
    .filter(([, n]) => n > 700);
  assert.deepEqual(long, [], long.map(([f, n]) => `${f}: ${n} lines`).join(', '));
});

test('every daemon .c but main.c has its .h', () => {
  const lone = files.filter((f) => f.endsWith('.c') && f !== 'main.c' && !files.includes(f.slice(0, -2) + '.h'));
  assert.deepEqual(lone, []);
});
