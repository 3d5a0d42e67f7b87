#!/usr/bin/env bash
# Build heraldd as it was at a git commit, beside the working tree, and print
# the binary's path: the baseline for `bench/run.sh --baseline`, so that a
# change and the commit before it are measured in the same run, interleaved
# (on a shared machine, load drifts between two runs more than a refactor
# moves the figures).
# Usage: bench/build-at.sh COMMIT [DIR]     (DIR: build/at-COMMIT)
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${1:?usage: bench/build-at.sh COMMIT [DIR]}
sha=$(git rev-parse --verify --quiet "$commit^{commit}") ||
  { echo "build-at.sh: $commit is not a commit here" >&2; exit 2; }
dir=${2:-build/at-${sha:0:12}}
if [ ! -x "$dir/daemon/heraldd" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  # daemon/ reads ../common, ../client (herald.js is served) and ../VERSION.
  git archive "$sha" daemon common client VERSION | tar -x -C "$dir"
  make -s -j2 -C "$dir/daemon" >"$dir/build.log" 2>&1 ||
    { echo "build-at.sh: heraldd at $commit does not build (see $dir/build.log)" >&2; exit 1; }
fi
echo "$(cd "$dir/daemon" && pwd)/heraldd"
