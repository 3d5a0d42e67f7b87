#!/usr/bin/env bash
# Fuzz suite: builds the libFuzzer targets of tests/fuzz (ASan + UBSan),
# replays each committed seed corpus, then fuzzes each target for a fixed
# number of runs (HERALD_FUZZ_RUNS, default below). One test case per target
# per phase; any crash, leak, sanitizer report or timeout fails it, and the
# input that did it is kept under build/fuzz/artifacts/.
set -uo pipefail
top=${HERALD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
runs=${HERALD_FUZZ_RUNS:-150000}
out=$top/build/fuzz
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/artifacts"

if ! make -C tests/fuzz -j2 O="$out" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  not_ok "fuzz targets build"
  echo "$passed passed, $failed failed"
  exit 1
fi
targets=$(make -s -C tests/fuzz list)
[ -n "$targets" ] || { not_ok "at least one fuzz target"; echo "$passed passed, $failed failed"; exit 1; }

for t in $targets; do
  bin=$out/$t
  corpus=tests/fuzz/corpus/$t
  # Phase 1: every committed seed once.
  if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
    if timeout 120 "$bin" -rss_limit_mb=2048 "$corpus"/* >"$work/$t.replay.log" 2>&1; then
      ok "$t replays its $(ls "$corpus" | wc -l) seeds"
    else
      tail -30 "$work/$t.replay.log"
      not_ok "$t replays its seeds"
    fi
  else
    not_ok "$t has a seed corpus in $corpus"
  fi
  # Phase 2: a bounded fuzzing run from the seeds; new inputs go to a temp
  # dir so the committed corpus stays as it is.
  mkdir -p "$work/$t.corpus"
  if timeout 300 "$bin" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
       "$work/$t.corpus" "$corpus" >"$work/$t.fuzz.log" 2>&1; then
    cov=$(grep -E '^#[0-9]+.*DONE' "$work/$t.fuzz.log" | tail -1 | sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')
    ok "$t survives $runs fuzzing runs ($cov)"
  else
    grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$work/$t.fuzz.log" | head -20
    tail -20 "$work/$t.fuzz.log"
    not_ok "$t survives $runs fuzzing runs (reproduce: $bin $out/artifacts/$t-*)"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
