#!/usr/bin/env bash
# slow
# The C unit tests again, built with AddressSanitizer + UBSan (clang): any
# sanitizer report aborts that test binary, which counts as a failure.
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cc=cc; command -v clang >/dev/null && cc=clang
args=(-C tests/unit O=../../build/unit-asan SANITIZE=address,undefined CC=$cc)
if ! make "${args[@]}" -j2 >/dev/null; then
  make "${args[@]}" 2>&1 | tail -30
  echo "sanitizer unit tests do not build"
  echo "0 passed, 1 failed"
  exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
make -s "${args[@]}" run 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$out"; then
  echo "sanitizer reports found"
  rc=1
fi
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
pass=${line%% passed*}; fail=$(echo "$line" | sed 's/.* passed, \([0-9]*\) failed.*/\1/')
pass=${pass:-0}; fail=${fail:-1}
[ $rc -ne 0 ] && [ "$fail" = 0 ] && fail=1
# The inboxes between event loops (daemon/mpsc.c) under ThreadSanitizer:
# its producer/consumer test counts as its cases, a data race as a failure.
targs=(-C tests/unit O=../../build/unit-tsan SANITIZE=thread CC=$cc)
# The tests with threads: the loops' inboxes and the hand-over between loops.
for t in test_mpsc test_hub; do
  echo "== ThreadSanitizer: $t"
  if make "${targs[@]}" -j2 ../../build/unit-tsan/$t >/dev/null 2>&1; then
    TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./build/unit-tsan/$t >"$out" 2>&1
    trc=$?
    cat "$out"
    tl=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
    tp=${tl%% passed*}; tf=$(echo "$tl" | sed 's/.* passed, \([0-9]*\) failed.*/\1/')
    tp=${tp:-0}; tf=${tf:-1}
    if [ $trc -ne 0 ] && [ "$tf" = 0 ]; then tf=1; fi
    grep -q 'WARNING: ThreadSanitizer' "$out" && { echo "ThreadSanitizer reports found"; [ "$tf" = 0 ] && tf=1; }
  else
    echo "$t does not build with -fsanitize=thread"
    tp=0; tf=1
  fi
  pass=$((pass + tp)); fail=$((fail + tf))
done
echo "${pass} passed, ${fail} failed"
[ "$fail" = 0 ]
