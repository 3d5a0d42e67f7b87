#!/usr/bin/env bash
# Source coverage (lines, branches) of the code a fuzz target exercises,
# replaying its committed seeds plus whatever run-long.sh found.
# Usage: tests/fuzz/coverage.sh TARGET      e.g. tests/fuzz/coverage.sh fuzz_ws_frames
# Needs llvm-profdata and llvm-cov (Debian: llvm-14, pulled in by clang).
set -euo pipefail
[ $# -eq 1 ] || { sed -n '2,5p' "$0"; exit 2; }
target=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
cov=$top/build/fuzz-cov
mkdir -p "$cov" "$top/build/fuzz/found/$target"
srcs=$(make -s -C "$top/tests/fuzz" srcs-"$target")
libs=$(make -s -C "$top/tests/fuzz" libs)
clang -std=c11 -D_GNU_SOURCE -g -O0 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
  -I"$top/daemon" -I"$top/common" -o "$cov/$target" "$top/tests/fuzz/$target.c" $srcs $libs
rm -f "$cov/$target".profraw
LLVM_PROFILE_FILE="$cov/$target.profraw" "$cov/$target" -runs=0 \
  "$top/build/fuzz/found/$target" "$top/tests/fuzz/corpus/$target" >/dev/null 2>&1
llvm-profdata merge -sparse "$cov/$target.profraw" -o "$cov/$target.profdata"
llvm-cov report "$cov/$target" -instr-profile="$cov/$target.profdata" $srcs
echo "line-by-line: llvm-cov show $cov/$target -instr-profile=$cov/$target.profdata $srcs"
