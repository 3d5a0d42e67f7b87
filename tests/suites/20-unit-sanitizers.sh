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
  [ $rc -eq 0 ] && { echo "0 passed, 1 failed"; exit 1; }
fi
exit $rc
