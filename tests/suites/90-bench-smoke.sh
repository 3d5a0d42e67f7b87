#!/usr/bin/env bash
# The load generator (bench/loadgen) on a small scale: its own error paths,
# that it notices lost messages (against the ws peer told to drop some), and
# laravel-echo-server's clients (socket.io 2) get every message,
# ~200 clients x 20 messages through a real heraldd with zero loss and sane
# figures, and that with two loops the loop handed the messages coalesces
# frames like the one that accepted them. Free loopback ports, temp dirs,
# every process stopped by PID, bounded in time. Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
top=$(pwd)

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "  $2"; }
finish() { echo "$passed passed, $failed failed"; [ $failed = 0 ]; exit $?; }

tmp=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# A field of loadgen's JSON line.
jget() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").pop()); const v=r[process.argv[2]]; console.log(typeof v==="object"?JSON.stringify(v):v)' "$1" "$2"; }

# shellcheck source=../../bench/ports.sh
. bench/ports.sh
stop() {
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# ---- the generator itself -------------------------------------------------
if make -s -B -C bench loadgen httpload floor CFLAGS="-O2 -g -Werror" >"$tmp/build.log" 2>&1; then
  ok "bench_clients_build_without_warnings"
else
  not_ok "bench_clients_build_without_warnings" "$(head -5 "$tmp/build.log")"
  finish
fi
lg=bench/loadgen

$lg --no-such-flag >/dev/null 2>&1
rc=$?
$lg --help >/dev/null 2>&1
rc2=$?
if [ $rc = 2 ] && [ $rc2 = 0 ]; then ok "bad_flag_exits_2_help_exits_0"
else not_ok "bad_flag_exits_2_help_exits_0" "rc $rc / $rc2"; fi

# Nothing listens on the port: every client fails, quickly, exit status 1.
dead=$(free_port)
timeout 20 $lg --proto ws --port "$dead" --emit-port "$dead" --clients 50 --messages 5 \
  --connect-timeout-ms 2000 --deadline-s 10 >"$tmp/refused.json" 2>"$tmp/refused.err"
rc=$?
if [ $rc = 1 ] && [ "$(jget "$tmp/refused.json" connect_failed)" = 50 ] &&
   grep -q 'refused' "$tmp/refused.json"; then ok "refused_connections_are_counted_and_named"
else not_ok "refused_connections_are_counted_and_named" "rc $rc: $(cat "$tmp/refused.json" "$tmp/refused.err")"; fi

# ---- against the ws peer (its package comes with the tests' node modules) -
export NODE_PATH="$top/tests/node_modules"
wsp=$(free_port) emp=$(free_port)
node bench/peers/ws.js --ws-port "$wsp" --emit-port "$emp" --drop-every 4 >"$tmp/ws.log" 2>&1 &
wspid=$!
PIDS+=($wspid)
if wait_port "$emp" $wspid; then
  timeout 30 $lg --proto ws --port "$wsp" --emit-port "$emp" --clients 20 --messages 20 \
    --drain-ms 1000 --deadline-s 20 >"$tmp/drop.json" 2>"$tmp/drop.err"
  rc=$?
  # 20 messages, every 4th missed by one client: 5 lost exactly.
  if [ $rc = 1 ] && [ "$(jget "$tmp/drop.json" lost)" = 5 ] &&
     [ "$(jget "$tmp/drop.json" delivered)" = 395 ]; then ok "lost_messages_are_counted"
  else not_ok "lost_messages_are_counted" "rc $rc: $(cat "$tmp/drop.json")"; fi
else
  not_ok "lost_messages_are_counted" "ws peer did not start: $(cat "$tmp/ws.log")"
fi
stop $wspid

# ---- bench/floor, the least server ----------------------------------------
# The same loadgen command as heraldd's gets every frame from it, over TCP
# and its Unix socket, and a node ws client (a random key: floor's own SHA-1
# for Sec-WebSocket-Accept) is subscribed and gets a message.
fwp=$(free_port) fep=$(free_port)
bench/floor --ws-port "$fwp" --emit-port "$fep" --emit-unix "$tmp/floor.sock" 2>"$tmp/floor.err" &
fpid=$!
PIDS+=($fpid)
if wait_port "$fep" $fpid; then
  timeout 20 $lg --proto heraldd --port "$fwp" --emit-port "$fep" --clients 100 --messages 20 \
    --publishers 4 --drain-ms 1000 --deadline-s 15 >"$tmp/floor.json" 2>"$tmp/floor-lg.err"
  rc=$?
  timeout 20 $lg --proto heraldd --port "$fwp" --emit-unix "$tmp/floor.sock" --clients 50 --messages 20 \
    --window 8 --pipeline 8 --drain-ms 1000 --deadline-s 15 >"$tmp/floor-unix.json" 2>>"$tmp/floor-lg.err"
  rc2=$?
  got=$(node -e '
    const W = require("ws"), w = new W("ws://127.0.0.1:'"$fwp"'/ws");
    const t = setTimeout(() => { console.log("timeout"); process.exit(1); }, 5000);
    w.on("open", () => w.send(JSON.stringify({ type: "subscribe", channel: "any" })));
    w.on("message", (m) => {
      m = String(m);
      if (m.includes("subscribed")) {
        require("http").request({ host: "127.0.0.1", port: '"$fep"', method: "POST", path: "/emit/any" },
          (r) => r.resume()).end("hello floor");
      } else { console.log(m); clearTimeout(t); w.close(); }
    });' 2>&1)
  if [ $rc = 0 ] && [ "$(jget "$tmp/floor.json" delivered)" = 2000 ] && [ $rc2 = 0 ] &&
     [ "$(jget "$tmp/floor-unix.json" delivered)" = 1000 ] && [ "$got" = "hello floor" ]; then
    ok "floor_delivers_every_frame_to_loadgen_and_ws"
  else
    not_ok "floor_delivers_every_frame_to_loadgen_and_ws" \
      "rc $rc/$rc2 ws: $got; $(cat "$tmp/floor.json" "$tmp/floor-unix.json" "$tmp/floor-lg.err" | head -c 1500)"
  fi
else
  not_ok "floor_delivers_every_frame_to_loadgen_and_ws" "floor did not start: $(cat "$tmp/floor.err")"
fi
stop $fpid

# ---- against laravel-echo-server (bench/package.json, by scripts/setup) ---
# The Engine.IO 3 / socket.io 2 client: connect, Echo's subscribe event,
# messages through its HTTP API; none lost.
les=bench/node_modules/laravel-echo-server/bin/server.js
if [ -f "$les" ]; then
  lep=$(free_port)
  mkdir -p "$tmp/les"
  cat >"$tmp/les/laravel-echo-server.json" <<EOF
{"authHost": "http://127.0.0.1:1", "clients": [{"appId": "bench", "key": "benchkey"}],
 "database": "sqlite", "devMode": false, "host": "127.0.0.1", "port": $lep,
 "subscribers": {"http": true, "redis": false}}
EOF
  (cd "$tmp/les" && exec node "$top/$les" start --config=laravel-echo-server.json) >"$tmp/les.log" 2>&1 &
  lepid=$!
  PIDS+=($lepid)
  if wait_port "$lep" $lepid; then
    timeout 30 $lg --proto echo --port "$lep" --emit-port "$lep" --clients 50 --messages 10 \
      --window 4 --deadline-s 20 >"$tmp/echo.json" 2>"$tmp/echo.err"
    rc=$?
    if [ $rc = 0 ] && [ "$(jget "$tmp/echo.json" delivered)" = 500 ]; then ok "laravel_echo_server_subscribers_get_every_message"
    else not_ok "laravel_echo_server_subscribers_get_every_message" "rc $rc: $(cat "$tmp/echo.json" "$tmp/echo.err")"; fi
  else
    not_ok "laravel_echo_server_subscribers_get_every_message" "it did not start: $(cat "$tmp/les.log")"
  fi
  stop $lepid
else
  not_ok "laravel_echo_server_subscribers_get_every_message" "$les missing: run scripts/setup"
fi

# ---- against heraldd ------------------------------------------------------
if ! make -s -j2 -C daemon >"$tmp/heraldd-build.log" 2>&1 || [ ! -x daemon/heraldd ]; then
  not_ok "heraldd_builds" "$(tail -5 "$tmp/heraldd-build.log")"
  finish
fi
hp=$(free_port) hep=$(free_port)
(umask 077; head -c 32 /dev/urandom | base64 >"$tmp/secret")
daemon/heraldd --listen "127.0.0.1:$hp" --emit "127.0.0.1:$hep" --secret-file "$tmp/secret" \
  --public-channels 'bench*' --max-connections-per-ip 0 --log-level warn >"$tmp/heraldd.log" 2>&1 &
hpid=$!
PIDS+=($hpid)
if ! wait_port "$hep" $hpid || ! wait_port "$hp" $hpid; then
  not_ok "heraldd_starts" "$(tail -5 "$tmp/heraldd.log")"
  finish
fi

# The acceptance run: 200 clients x 20 messages, none lost, sane figures.
timeout 30 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 200 --messages 20 \
  --server-pid $hpid --deadline-s 25 --label smoke >"$tmp/h.json" 2>"$tmp/h.err"
rc=$?
if [ $rc = 0 ] && [ "$(jget "$tmp/h.json" connected)" = 200 ] &&
   [ "$(jget "$tmp/h.json" delivered)" = 4000 ] && [ "$(jget "$tmp/h.json" lost)" = 0 ]; then
  ok "heraldd_200_clients_20_messages_none_lost"
else
  not_ok "heraldd_200_clients_20_messages_none_lost" "rc $rc: $(cat "$tmp/h.json" "$tmp/h.err")"
fi
if node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const sane = r.label === "smoke" && r.connects_per_s > 0 && r.delivered_per_s > 0 &&
    r.lat_us_p50 > 0 && r.lat_us_p50 <= r.lat_us_p99 && r.lat_us_p99 <= r.lat_us_max + 1000 &&
    r.lat_us_max < 10e6 && r.server_cpu_ms > 0 && r.cpu_us_per_frame > 0 &&
    r.rss_kb_loaded > 0 && r.timeout === false && r.error === "";
  process.exit(sane ? 0 : 1);' "$tmp/h.json" 2>/dev/null; then
  ok "heraldd_figures_are_sane"
else
  not_ok "heraldd_figures_are_sane" "$(cat "$tmp/h.json")"
fi

# At a fixed rate: 20 messages at 100/s take at least 0.19 s to publish.
timeout 30 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 100 --messages 20 \
  --rate 100 --deadline-s 25 >"$tmp/rate.json" 2>"$tmp/rate.err"
rc=$?
if [ $rc = 0 ] && [ "$(jget "$tmp/rate.json" lost)" = 0 ] &&
   node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.exit(r.publish_s >= 0.18 && r.publish_s < 5 ? 0 : 1)' "$tmp/rate.json"; then
  ok "heraldd_fixed_rate_is_paced_and_lossless"
else
  not_ok "heraldd_fixed_rate_is_paced_and_lossless" "rc $rc: $(cat "$tmp/rate.json" "$tmp/rate.err")"
fi

# Eight publishers at once, each waiting for its answer (eight php-fpm
# workers): their messages interleave, none is lost or counted twice.
timeout 30 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 50 --messages 80 \
  --publishers 8 --deadline-s 25 >"$tmp/pub8.json" 2>"$tmp/pub8.err"
rc=$?
if [ $rc = 0 ] && [ "$(jget "$tmp/pub8.json" delivered)" = 4000 ] &&
   [ "$(jget "$tmp/pub8.json" dup)" = 0 ] && [ "$(jget "$tmp/pub8.json" publishers)" = 8 ]; then
  ok "heraldd_8_publishers_interleave_none_lost"
else
  not_ok "heraldd_8_publishers_interleave_none_lost" "rc $rc: $(cat "$tmp/pub8.json" "$tmp/pub8.err")"
fi

# A channel that is neither public nor signed: every subscribe is refused
# and the reason reaches the report.
timeout 30 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 20 --messages 5 \
  --channel private --deadline-s 20 --connect-timeout-ms 5000 >"$tmp/forbid.json" 2>"$tmp/forbid.err"
rc=$?
if [ $rc = 1 ] && [ "$(jget "$tmp/forbid.json" connect_failed)" = 20 ] &&
   grep -q 'subscribe refused' "$tmp/forbid.json"; then ok "refused_subscribe_is_reported"
else not_ok "refused_subscribe_is_reported" "rc $rc: $(cat "$tmp/forbid.json" "$tmp/forbid.err")"; fi

# A signed name from `heraldd sign` subscribes to a private channel.
if signed=$(daemon/heraldd sign private --secret-file "$tmp/secret" 2>"$tmp/sign.err") && [ -n "$signed" ]; then
  timeout 30 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 50 --messages 10 \
    --channel private --subscribe-name "$signed" --deadline-s 20 >"$tmp/signed.json" 2>"$tmp/signed.err"
  rc=$?
  if [ $rc = 0 ] && [ "$(jget "$tmp/signed.json" delivered)" = 500 ]; then ok "signed_name_subscribes"
  else not_ok "signed_name_subscribes" "rc $rc: $(cat "$tmp/signed.json" "$tmp/signed.err")"; fi
else
  not_ok "signed_name_subscribes" "heraldd sign failed: $(cat "$tmp/sign.err")"
fi

stop $hpid

# ---- the end-to-end bench (nginx + php-fpm + heraldd, the 2013 route) -----
# A few hundred requests per cell: it runs, prints its table with a row per
# route and concurrency, and every emitted message reached the subscribers.
if timeout 240 bench/e2e.sh --quick --requests 150 --warmup 30 --out "$tmp/e2e" >"$tmp/e2e.out" 2>"$tmp/e2e.err"; then
  ok "e2e_runs_and_every_message_arrives"
else
  not_ok "e2e_runs_and_every_message_arrives" "$(tail -5 "$tmp/e2e.err"; tail -3 "$tmp/e2e.out")"
fi
rows=$(grep -cE '^\| (no emit|`Herald|2013)' "$tmp/e2e.out")
if [ "$rows" = 10 ] && grep -qE '^Delivered to the 10 heraldd subscribers: ([0-9]+) of \1 frames; to the 10 socket.io subscribers: ([0-9]+) of \2' "$tmp/e2e.out" &&
   node -e '
     const rs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
     const by = (l) => rs.find((r) => r.label === l);
     const sane = rs.length === 10 && rs.every((r) => r.counted === 150 && r.req_per_s > 0 &&
         r.lat_us_p50 > 0 && r.lat_us_p50 <= r.lat_us_p99 && r.cpu_us_per_req["php-fpm"] > 0) &&
       by("emit/8/1").cpu_us_per_req.heraldd > 0 && by("curl2013/8/1").cpu_us_per_req.node > 0;
     process.exit(sane ? 0 : 1);' "$tmp/e2e/results.jsonl"; then
  ok "e2e_prints_a_row_per_route_and_concurrency"
else
  not_ok "e2e_prints_a_row_per_route_and_concurrency" "$(cat "$tmp/e2e.out")"
fi

# ---- one loop: a steady stream of emits is coalesced steadily -----------
# One publisher waiting for each answer, 6,000 emits a second (one every
# 0.17 ms): the loop holds its subscribers' frames while the stream goes
# on (daemon/cork.c, up to 4 ms), so each write carries many frames
# (21-27 on a quiet machine). A cork that ended 1 ms after it began,
# whether or not emits kept coming, wrote 3.5-10.2 at this pace. A busy
# machine makes the publisher late and ends streams early, so the best of
# up to three runs counts.
hp=$(free_port) hep=$(free_port)
daemon/heraldd --listen "127.0.0.1:$hp" --emit "127.0.0.1:$hep" --secret-file "$tmp/secret" \
  --public-channels 'bench*' --max-connections-per-ip 0 --log-level warn --workers 1 \
  >"$tmp/heraldd1.log" 2>&1 &
hpid=$!
PIDS+=($hpid)
if ! wait_port "$hep" $hpid || ! wait_port "$hp" $hpid; then
  not_ok "heraldd_one_loop_starts" "$(tail -5 "$tmp/heraldd1.log")"
  finish
fi
stats1() { curl -sf -m 5 -H "Authorization: Bearer $(head -1 "$tmp/secret")" "http://127.0.0.1:$hep/stats"; }
best="" why=""
for _ in 1 2 3; do
  before=$(stats1)
  timeout 40 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 20 --messages 600 \
    --rate 6000 --deadline-s 35 >"$tmp/w1.json" 2>"$tmp/w1.err"
  rc=$?
  after=$(stats1)
  # frames over writes in this run, less one 202 per emit and a handshake
  # and a subscribe answer per client
  fpw=$(node -e '
    const [b, a] = process.argv.slice(1).map((s) => JSON.parse(s).loops[0]);
    const d = (k) => a[k] - b[k];
    if (d("frames_delivered") !== 12000) process.exit(1);
    const w = d("socket_writes") - d("messages_emitted") - 2 * d("connections_accepted");
    console.log((d("frames_delivered") / w).toFixed(1));' "$before" "$after") || fpw=""
  echo "  frames per write at 6,000 emits/s: ${fpw:-?} (loadgen rc $rc)" >&2
  [ $rc = 0 ] && [ -n "$fpw" ] || { why="rc $rc: $(cat "$tmp/w1.json")"; continue; }
  best=$(node -e 'console.log(Math.max(...process.argv.slice(1).filter(Boolean).map(Number)))' "$best" "$fpw")
  node -e 'process.exit(Number(process.argv[1]) >= 15 ? 0 : 1)' "$best" && break
done
if [ -n "$best" ] && node -e 'process.exit(Number(process.argv[1]) >= 15 ? 0 : 1)' "$best"; then
  ok "steady_stream_of_emits_fills_each_write_with_many_frames"
else
  not_ok "steady_stream_of_emits_fills_each_write_with_many_frames" "best ${best:-none} frames per write (want >= 15) $why"
fi
stop $hpid

# ---- two loops: the loop handed the messages coalesces too ---------------
# One publisher waiting for each answer, as a PHP request emits, 4,000 a
# second: the loop that receives the messages by hand-over must hold its
# subscribers' frames while they stream in, as the loop that accepted the
# emits does, and not write each as it arrives. Its frames per write
# (handover_frames / handover_writes in /stats) must come near loop 0's
# for its subscribers (its writes less one 202 per emit and a handshake and
# a subscribe answer per client). Relative, so a slow machine, where
# every loop batches more, does not hide a loop that stopped corking.
hp=$(free_port) hep=$(free_port)
daemon/heraldd --listen "127.0.0.1:$hp" --emit "127.0.0.1:$hep" --secret-file "$tmp/secret" \
  --public-channels 'bench*' --max-connections-per-ip 0 --log-level warn --workers 2 \
  >"$tmp/heraldd2.log" 2>&1 &
hpid=$!
PIDS+=($hpid)
if ! wait_port "$hep" $hpid || ! wait_port "$hp" $hpid; then
  not_ok "heraldd_two_loops_start" "$(tail -5 "$tmp/heraldd2.log")"
  finish
fi
timeout 40 $lg --proto heraldd --port "$hp" --emit-port "$hep" --clients 20 --messages 800 \
  --rate 4000 --deadline-s 35 >"$tmp/w2.json" 2>"$tmp/w2.err"
rc=$?
# Loop 1's figures reach /stats at its next sweep tick (at most a second).
st=""
for _ in $(seq 30); do
  st=$(curl -sf -m 5 -H "Authorization: Bearer $(head -1 "$tmp/secret")" "http://127.0.0.1:$hep/stats")
  echo "$st" | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.exit(s.loops.reduce((n, l) => n + l.frames_delivered, 0) === 16000 ? 0 : 1);' 2>/dev/null && break
  sleep 0.2
done
if [ $rc = 0 ] && echo "$st" | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const [l0, l1] = s.loops;
    const own = l0.frames_delivered / (l0.socket_writes - l0.messages_emitted - 2 * l0.connections_accepted);
    const handed = l1.handover_frames / l1.handover_writes;
    console.error(`  frames per write: loop 0 ${own.toFixed(1)}, loop 1 (handed over) ${handed.toFixed(1)}`);
    process.exit(l0.frames_delivered > 0 && l1.handover_frames > 0 && handed >= 2 && handed >= 0.6 * own ? 0 : 1);'; then
  ok "handover_loop_coalesces_frames_like_the_emit_loop"
else
  not_ok "handover_loop_coalesces_frames_like_the_emit_loop" "rc $rc: $st $(cat "$tmp/w2.json")"
fi
stop $hpid

# ---- a cluster: subscribers over the nodes, emits through each in turn ----
# Two nodes on one redis-server: loadgen spreads its subscribers over both
# ports and sends each publisher's emits to both emit ports in turn; every
# subscriber must get every message in order, both nodes must have
# delivered frames, and Redis's CPU is reported apart.
if command -v redis-server >/dev/null; then
  rp=$(free_port)
  redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
  rpid=$!
  PIDS+=($rpid)
  wait_port "$rp" $rpid
  cports=() ceps=() cpids=()
  for i in 1 2; do
    wp=$(free_port) ep=$(free_port)
    daemon/heraldd --listen "127.0.0.1:$wp" --emit "127.0.0.1:$ep" --redis "redis://127.0.0.1:$rp" \
      --secret-file "$tmp/secret" --public-channels 'bench*' --max-connections-per-ip 0 \
      --log-level warn >"$tmp/node$i.log" 2>&1 &
    cpids+=($!) cports+=("$wp") ceps+=("$ep")
    PIDS+=($!)
    wait_port "$ep" $! && wait_port "$wp" $!
  done
  up=0
  for _ in $(seq 100); do
    up=0
    for ep in "${ceps[@]}"; do
      curl -sf -m 2 -H "Authorization: Bearer $(head -1 "$tmp/secret")" "http://127.0.0.1:$ep/stats" |
        grep -q '"redis_link_up": *1' && up=$((up + 1))
    done
    [ $up = 2 ] && break
    sleep 0.05
  done
  timeout 30 $lg --proto heraldd --port "${cports[0]},${cports[1]}" --emit-port "${ceps[0]},${ceps[1]}" \
    --clients 40 --messages 60 --publishers 2 --deadline-s 25 \
    --server-pid "${cpids[0]},${cpids[1]}" --aux-pid $rpid >"$tmp/cl.json" 2>"$tmp/cl.err"
  rc=$?
  fr=()
  for ep in "${ceps[@]}"; do
    fr+=("$(curl -sf -m 5 -H "Authorization: Bearer $(head -1 "$tmp/secret")" "http://127.0.0.1:$ep/stats" |
      node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).frames_delivered)')")
  done
  each=$(jget "$tmp/cl.json" server_cpu_ms_each)
  if [ $rc = 0 ] && [ "$(jget "$tmp/cl.json" lost)" = 0 ] && [ "$(jget "$tmp/cl.json" delivered)" = 2400 ] &&
     [ "${fr[0]}" = 1200 ] && [ "${fr[1]}" = 1200 ] &&
     node -e 'process.exit(JSON.parse(process.argv[1]).length === 2 && +process.argv[2] >= 0 ? 0 : 1)' \
       "$each" "$(jget "$tmp/cl.json" aux_cpu_ms)"; then
    ok "cluster_subscribers_spread_emits_round_robin_none_lost"
  else
    not_ok "cluster_subscribers_spread_emits_round_robin_none_lost" \
      "rc $rc, frames per node ${fr[*]}: $(cat "$tmp/cl.json" "$tmp/cl.err")"
  fi
  for p in "${cpids[@]}" $rpid; do stop "$p"; done
else
  ok "cluster_subscribers_spread_emits_round_robin_none_lost # SKIP no redis-server"
fi
finish
