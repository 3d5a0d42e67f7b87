#!/usr/bin/env bash
# heraldd's instructions per delivered frame, by protocol, under valgrind's
# callgrind: repeatable whatever else the machine runs (no lock needed), so
# it compares protocols, or a change before and after, where timings on a
# shared machine cannot. For each protocol two runs of the same clients:
# one with no message (connect, subscribe, close) and one with a burst; the
# difference over clients x messages is what one delivered frame costs in
# user space (the kernel's share, the socket writes, is not counted). The
# whole program's difference moves with how connecting and closing went
# (timers, reads); the delivery's own functions (loop_publish: frames
# built and queued; conn_flush_list: queues written) count only what a
# message costs, so both are shown.
# Usage: bench/instr.sh [--protos "heraldd pusher socketio"] [--clients N]
#                       [--messages M] [--size BYTES] [--bin HERALDD] [--out DIR]
set -uo pipefail
cd "$(dirname "$0")"
bench=$(pwd)
protos="heraldd pusher" clients=200 messages=100 size=48 bin="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --protos) protos=$2; shift ;;
    --clients) clients=$2; shift ;;
    --messages) messages=$2; shift ;;
    --size) size=$2; shift ;;
    --bin) bin=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "instr.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v valgrind >/dev/null || { echo "instr.sh: needs valgrind" >&2; exit 1; }
make -s -C "$bench" loadgen || exit 1
[ -n "$bin" ] || { make -s -j2 -C ../daemon || exit 1; bin=$(cd ../daemon && pwd)/heraldd; }
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"
# shellcheck source=ports.sh
. "$bench/ports.sh"

# Total instructions of one heraldd run: $1 protocol, $2 messages.
run() {
  local proto=$1 msgs=$2 wsp emp extra=() pid
  wsp=$(free_port) emp=$(free_port)
  (umask 077; head -c 32 /dev/urandom | base64 >"$out/secret"
   echo "1:benchkey:$(head -c 24 /dev/urandom | base64)" >"$out/apps")
  case $proto in
    pusher) extra=(--pusher-apps-file "$out/apps") ;;
    socketio) extra=(--socketio-channels 'bench*') ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$out/$proto-$msgs.out" "$bin" \
    --listen "127.0.0.1:$wsp" --emit "127.0.0.1:$emp" --secret-file "$out/secret" \
    --public-channels 'bench*' --max-connections-per-ip 0 --log-level warn "${extra[@]}" \
    >"$out/$proto-$msgs.log" 2>&1 &
  pid=$!
  if ! { wait_port "$emp" $pid && wait_port "$wsp" $pid; }; then
    echo "instr.sh: heraldd did not start" >&2; cat "$out/$proto-$msgs.log" >&2; return 1
  fi
  ./loadgen --proto "$proto" --port "$wsp" --emit-port "$emp" --clients "$clients" \
    --messages "$msgs" --size "$size" --window 32 --deadline-s 300 --connect-timeout-ms 60000 \
    --label "$proto/$msgs" >"$out/$proto-$msgs.json" 2>"$out/$proto-$msgs.err"
  kill -TERM $pid; wait $pid 2>/dev/null
}

# Instructions of the whole run, and inclusive in the delivery's functions.
total() { sed -n 's/^totals: *//p' "$1" | tr -d ,; }
delivery() {
  callgrind_annotate --threshold=100 --inclusive=yes "$1" 2>/dev/null |
    awk '/:(loop_publish|conn_flush_list) \[/ { gsub(",", "", $1); n += $1 } END { print n + 0 }'
}

printf '| protocol | whole run, %s clients, no message | with %s messages | per frame | delivery functions, per frame |\n|---|---|---|---|---|\n' \
  "$clients" "$messages"
for p in $protos; do
  run "$p" 0 && run "$p" "$messages" || exit 1
  a=$out/$p-0.out b=$out/$p-$messages.out n=$((clients * messages))
  printf '| %s | %s | %s | %s | %s |\n' "$p" "$(total "$a")" "$(total "$b")" \
    "$(awk -v a="$(total "$a")" -v b="$(total "$b")" -v n=$n 'BEGIN { printf "%.0f", (b - a) / n }')" \
    "$(awk -v a="$(delivery "$a")" -v b="$(delivery "$b")" -v n=$n 'BEGIN { printf "%.0f", (b - a) / n }')"
done
echo "(callgrind outputs in $out)"
