#!/usr/bin/env bash
# The cost of one Herald\emit() to the PHP process, in one command: starts a
# heraldd (no subscribers, no history) on a temp Unix socket and a free
# loopback port, then for each endpoint prints µs wall / PHP CPU / heraldd
# CPU per emit (median of R runs of N emits), the system calls PHP makes
# per emit (strace -c), and with --perf where PHP's CPU goes (perf report).
# Usage: bench/php/emit-cost.sh [--perf] [N] [R]     (N=20000, R=3)
set -euo pipefail
cd "$(dirname "$0")/../.."
perf=0; [ "${1:-}" = --perf ] && { perf=1; shift; }
n=${1:-20000}; r=${2:-3}
. bench/ports.sh
make -C daemon -j2 >/dev/null
# HERALD_EXT_SO: measure another build of the extension (e.g. an older commit)
so=${HERALD_EXT_SO:-$(scripts/build-ext)}
dir=$(mktemp -d)
pub=$(free_port); emit=$(free_port)
daemon/heraldd --listen "127.0.0.1:$pub" --emit_listen "unix:$dir/emit.sock,127.0.0.1:$emit" \
  --history_size 0 --log_level warn >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
wait_port "$emit" "$pid" || { cat "$dir/log"; exit 1; }
php=(php -n -d "extension=$so" bench/php/emit-cost.php)
for ep in "unix://$dir/emit.sock" "http://127.0.0.1:$emit"; do
  for i in $(seq "$r"); do "${php[@]}" "$ep" "$pid" "$n"; done | sort -t, -k3,3n | sed -n "$(( (r + 1) / 2 ))p" | sed "s|$dir|TMP|"
  if command -v strace >/dev/null; then
    strace -f -c -o "$dir/strace" "${php[@]}" "$ep" "$pid" 10000 >/dev/null
    # the 500 warm-up emits count too; start-up calls are few and not per emit
    awk -v n=10500 '$NF ~ /^(poll|ppoll|sendto|recvfrom|sendmsg|recvmsg|read|write|writev|setsockopt|clock_gettime|getsockopt|fcntl)$/ {
        printf "  %-10s %5.2f per emit\n", $NF, $4 / n; t += $4 } END { printf "  %-10s %5.2f per emit\n", "total", t / n }' "$dir/strace"
  fi
  if [ $perf = 1 ] && command -v perf >/dev/null; then
    perf record -q -o "$dir/perf.data" "${php[@]}" "$ep" "$pid" "$n" >/dev/null 2>&1
    perf report -i "$dir/perf.data" --no-children --sort dso -g none 2>/dev/null | grep '%' | head -6 || true
    perf report -i "$dir/perf.data" --no-children --sort dso,sym -g none 2>/dev/null | grep '%' | head -25 || true
  fi
done
