#!/usr/bin/env bash
# Where heraldd's CPU goes during scenario (a)'s burst (1,000 subscribers).
# Uses `perf record` with the cpu-clock software event (hardware counters are
# often missing in VMs), else valgrind's callgrind. Writes profile.txt in DIR.
# Usage: bench/profile.sh [DIR]
set -uo pipefail
cd "$(dirname "$0")"
bench=$(pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
make -s -C "$bench" loadgen && make -s -j2 -C ../daemon || exit 1
heraldd=$(cd ../daemon && pwd)/heraldd

# shellcheck source=ports.sh
. "$bench/ports.sh"

wsp=$(free_port) emp=$(free_port)
(umask 077; head -c 32 /dev/urandom | base64 >"$out/secret")
args=(--listen "127.0.0.1:$wsp" --emit "127.0.0.1:$emp" --secret-file "$out/secret"
      --public-channels 'bench*' --max-connections-per-ip 0 --log-level warn)
tool=""
if command -v perf >/dev/null && perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
  tool=perf
  perf record -e cpu-clock -g -o "$out/perf.data" "$heraldd" "${args[@]}" >"$out/heraldd.log" 2>&1 &
else
  tool=callgrind
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    "$heraldd" "${args[@]}" >"$out/heraldd.log" 2>&1 &
fi
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
wait_port "$emp" $pid && wait_port "$wsp" $pid || { echo "heraldd did not start"; cat "$out/heraldd.log"; exit 1; }
msgs=300
[ $tool = callgrind ] && msgs=50
./loadgen --proto heraldd --port "$wsp" --emit-port "$emp" --clients 1000 --messages $msgs \
  --window 32 --deadline-s 120 --label profile --server-pid $pid --server-children >"$out/profile-run.json"
kill -INT $pid 2>/dev/null   # perf writes its data on SIGINT
wait $pid 2>/dev/null
trap - EXIT
{
  echo "# heraldd profile ($tool) during 1,000 subscribers x $msgs messages"
  if [ $tool = perf ]; then
    perf report -i "$out/perf.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null \
      | grep -v '^#' | grep -E '^ +[0-9]' | head -40
  else
    callgrind_annotate "$out/callgrind.out" 2>/dev/null | head -60
  fi
} >"$out/profile.txt"
cat "$out/profile.txt"
