#!/usr/bin/env bash
# The PHP emit benchmark in one command: builds heraldd and the extension,
# starts one heraldd on a temp unix socket + a free loopback port, runs
# bench/php/bench.php once, stops heraldd by PID. Prints a Markdown table.
# Usage: bench/php/run.sh [N]      (N messages per row, default 20000)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20000}
make -C daemon -j2 >/dev/null
so=$(scripts/build-ext)
dir=$(mktemp -d)
free_port() { php -n -r '$s=stream_socket_server("tcp://127.0.0.1:0");$n=stream_socket_get_name($s,false);echo substr($n,strrpos($n,":")+1);'; }
pub=$(free_port); emit=$(free_port)
daemon/heraldd --listen "127.0.0.1:$pub" --emit_listen "unix:$dir/emit.sock,127.0.0.1:$emit" \
  --history_size 0 --log_level warn >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do
  [ -S "$dir/emit.sock" ] && curl -sf --unix-socket "$dir/emit.sock" http://h/healthz >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/log"; exit 1; }
  sleep 0.02
done
php -n -d extension=curl -d "extension=$so" bench/php/bench.php "$dir/emit.sock" "$emit" "$n"
