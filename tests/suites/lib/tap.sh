# Sourced by the suites that run node:test files. tap_run 'CMD' runs the
# shell command CMD (a node --test command with the TAP reporter) in tests/,
# so its globs expand there, shows its output and adds its counts to PASS
# and FAIL. A run that ends badly without a failing test (a crash, a
# timeout, a file that does not load) counts as one failure, so it can
# never pass green.
PASS=${PASS:-0} FAIL=${FAIL:-0}
tap_run() {
  local log rc p f c
  log=$(mktemp)
  (cd tests && bash -c "$1") 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  # node counts a cancelled test (a timeout, a file that ended with a
  # test still pending) apart from the failed ones; it failed too.
  c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$log" | tail -1)
  [ -n "$f" ] && f=$((f + ${c:-0}))
  rm -f "$log"
  [ -n "$p" ] || { p=0; f=1; }
  f=${f:-0}
  [ "$rc" -ne 0 ] && [ "$f" = 0 ] && f=1
  PASS=$((PASS + p)) FAIL=$((FAIL + f))
}

# The line scripts/test reads, and the suite's exit status.
tap_finish() {
  echo "${PASS} passed, ${FAIL} failed"
  [ "$FAIL" = 0 ]
}
