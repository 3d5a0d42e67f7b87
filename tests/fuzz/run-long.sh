#!/usr/bin/env bash
# A longer fuzzing run of one target, for use by hand or in a nightly job.
# Usage: tests/fuzz/run-long.sh TARGET SECONDS [extra libFuzzer flags...]
#   e.g. tests/fuzz/run-long.sh fuzz_ws_frames 600
# Builds the targets, fuzzes TARGET for SECONDS starting from its committed
# seeds, prints libFuzzer's final stats (cov:, ft:, exec/s), and keeps the
# inputs it found in build/fuzz/found/TARGET (crashes in build/fuzz/artifacts).
# To grow the committed corpus with what it found, minimised:
#   build/fuzz/TARGET -merge=1 tests/fuzz/corpus/TARGET build/fuzz/found/TARGET
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0"; exit 2; }
target=$1 seconds=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/fuzz
make -s -C "$top/tests/fuzz" -j2 O="$out"
[ -x "$out/$target" ] || { echo "no such target: $target (have: $(make -s -C "$top/tests/fuzz" list))"; exit 2; }
mkdir -p "$out/found/$target" "$out/artifacts"
exec "$out/$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" \
  "$@" "$out/found/$target" "$top/tests/fuzz/corpus/$target"
