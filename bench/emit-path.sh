#!/usr/bin/env bash
# What heraldd spends per emit on its own side (issue 18), repeatable on a
# loaded machine: heraldd with 10 WebSocket subscribers on channel "bench",
# and one PHP process calling Herald\emit() over a kept-alive Unix socket
# (the extension: one sendmsg, one recv per emit), with an emit secret, so
# the Authorization check is on the path.
#  1. callgrind: heraldd's instructions per emit, the difference between a
#     run of 1 emit and one of 1+N (start-up and subscribers cancel out),
#     and the functions that take them (inclusive, from the long run);
#  2. without valgrind: wall time, PHP's CPU and heraldd's CPU per emit
#     (emit-cost.php; a figure to take under the bench lock), then perf
#     stat (or strace -c): heraldd's system calls and context switches.
# Usage: bench/emit-path.sh [--heraldd PATH] [--no-callgrind] [--keep DIR] [N]
#   N               emits measured (5000)
#   --heraldd PATH  measure another build (bench/build-at.sh COMMIT prints one)
#   --keep DIR      keep callgrind's output of the long run there (callgrind.out)
# Instruction counts do not depend on the machine's load: no lock needed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
heraldd=$top/daemon/heraldd
cg=1 keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --heraldd) heraldd=$2; shift ;;
    --no-callgrind) cg=0 ;;
    --keep) keep=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) break ;;
  esac
  shift
done
n=${1:-5000}
[[ $n =~ ^[0-9]+$ ]] || { echo "emit-path.sh: not a number: $n" >&2; exit 2; }
# shellcheck source=ports.sh
. bench/ports.sh
make -s -C bench loadgen || exit 1
[ "$heraldd" != "$top/daemon/heraldd" ] || make -s -j2 -C daemon || exit 1
so=${HERALD_EXT_SO:-$(scripts/build-ext 2>/dev/null)} || { echo "emit-path.sh: the extension does not build" >&2; exit 1; }
dir=$(mktemp -d)
(umask 077; head -c 32 /dev/urandom | base64 >"$dir/secret"; head -c 32 /dev/urandom | base64 >"$dir/emit-secret")
PIDS=()
stop_all() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null
    wait "${PIDS[i]}" 2>/dev/null
  done
  PIDS=()
}
trap 'stop_all; rm -rf "$dir"' EXIT

# start [WRAPPER...]: heraldd (under WRAPPER) and 10 subscribers; sets $hpid
start() {
  ws=$(free_port)
  rm -f "$dir/emit.sock"
  "$@" "$heraldd" --listen "127.0.0.1:$ws" --emit_listen "unix:$dir/emit.sock" \
    --secret-file "$dir/secret" --emit-secret-file "$dir/emit-secret" \
    --public-channels 'bench*' --log-level warn >"$dir/heraldd.log" 2>&1 &
  hpid=$!
  PIDS+=("$hpid")
  wait_port "$ws" "$hpid" || { echo "heraldd did not start: $(tail -3 "$dir/heraldd.log")" >&2; exit 1; }
  bench/loadgen --proto heraldd --port "$ws" --clients 10 --until-signal --hold-ms 0 \
    --deadline-s 3600 --label subs >"$dir/subs.json" 2>"$dir/subs.err" &
  PIDS+=($!)
  for _ in $(seq 400); do grep -q 'subscribers ready' "$dir/subs.err" && return 0; sleep 0.05; done
  echo "the subscribers did not get ready: $(cat "$dir/subs.err")" >&2
  exit 1
}

# emits COUNT: COUNT emits (after emit-cost.php's 500 of warm-up)
emits() {
  php -n -d "extension=$so" -d "herald.emit_secret_file=$dir/emit-secret" \
    bench/php/emit-cost.php "unix://$dir/emit.sock" "$hpid" "$1" >"$dir/php.out" 2>&1 ||
    { echo "emit-cost.php failed: $(cat "$dir/php.out")" >&2; exit 1; }
}

echo "# heraldd: $heraldd"
if [ $cg = 1 ]; then
  for count in 1 $((n + 1)); do
    start valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$count" --dump-instr=no
    emits "$count"
    sleep 0.3 # the last frames reach the subscribers
    stop_all
    ir[$count]=$(sed -n 's/^summary: *//p;s/^totals: *//p' "$dir/cg.$count" | head -1 | cut -d' ' -f1)
  done
  echo "## callgrind: instructions per emit (10 subscribers)"
  echo "  $(( (ir[n + 1] - ir[1]) / n )) Ir per emit   (($(( ir[n + 1] )) - ${ir[1]}) / $n)"
  [ -z "$keep" ] || { mkdir -p "$keep" && cp "$dir/cg.$((n + 1))" "$keep/callgrind.out"; }
  echo "## callgrind: inclusive instructions per emit, top functions ($n emits)"
  callgrind_annotate --inclusive=yes "$dir/cg.$((n + 1))" 2>/dev/null |
    awk -v n="$n" '/^ *[0-9,]+ +\(/ { c = $1; gsub(",", "", c); $1 = ""; $2 = "";
      sub(/^ +/, ""); sub(/ \[.*\]$/, ""); if (c / n >= 50) printf "  %8.0f  %s\n", c / n, $0 }' |
    head -45
fi

echo "## time per emit, no valgrind, nothing attached ($n emits; run it under the bench lock)"
start
emits 500 # the connection and the first allocations
emits "$n"
sed 's/^/  /' "$dir/php.out"
echo "## system calls and context switches per emit ($n emits, no valgrind)"
if perf stat -e 'syscalls:sys_enter_read' -o /dev/null true >/dev/null 2>&1; then
  perf stat -e 'syscalls:sys_enter_*,context-switches' -p "$hpid" -o "$dir/stat" &
  sp=$!
  sleep 1
  emits "$n"
  kill -INT $sp
  wait $sp
  # the 500 warm-up emits of emit-cost.php count too
  awk -v n=$((n + 500)) '$1 ~ /^[0-9,]+$/ { c = $1; gsub(",", "", c); if (c + 0 > 0)
    { sub("syscalls:sys_enter_", "", $2); printf "  %-22s %8.2f\n", $2, c / n; t += ($2 != "context-switches") * c } }
    END { printf "  %-22s %8.2f\n", "(all syscalls)", t / n }' "$dir/stat"
else
  strace -f -c -o "$dir/strace" -p "$hpid" &
  sp=$!
  sleep 1
  emits "$n"
  kill -INT $sp
  wait $sp
  awk -v n=$((n + 500)) '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
    printf "  %-22s %8.2f\n", $NF, $4 / n; t += $4 } END { printf "  %-22s %8.2f\n", "(all syscalls)", t / n }' "$dir/strace"
fi
stop_all
