#!/usr/bin/env bash
# Conformance suite: Autobahn-style WebSocket cases (tests/conformance/
# *.test.mjs, node:test over raw TCP sockets) against a real daemon/heraldd
# started on free loopback ports. Builds heraldd if needed.
set -uo pipefail
top=${HERALD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"

if [ -z "${HERALDD:-}" ]; then
  if ! make -C daemon -j2 >/dev/null 2>"${TMPDIR:-/tmp}/herald-conformance-build.$$"; then
    tail -20 "${TMPDIR:-/tmp}/herald-conformance-build.$$"
    rm -f "${TMPDIR:-/tmp}/herald-conformance-build.$$"
    echo "not ok - daemon/heraldd builds"
    echo "0 passed, 1 failed"
    exit 1
  fi
  rm -f "${TMPDIR:-/tmp}/herald-conformance-build.$$"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 900 node --test --test-reporter=tap --test-timeout=60000 tests/conformance/*.test.mjs 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -E '^# pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail [0-9]+' "$out" | tail -1 | awk '{print $3}')
cancelled=$(grep -E '^# cancelled [0-9]+' "$out" | tail -1 | awk '{print $3}')
pass=${pass:-0}; fail=$(( ${fail:-0} + ${cancelled:-0} ))
if [ "$rc" -ne 0 ] && [ "$fail" = 0 ]; then fail=1; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$rc" = 0 ]
