#!/usr/bin/env bash
# Herald's benchmark: heraldd against socket.io 4 + Express (the original
# stack), a plain `ws` broadcaster, nginx + nchan and laravel-echo-server
# (Laravel Echo's self-hosted server before Reverb), on loopback only.
#
# Usage: bench/run.sh [--quick] [--repeat N] [--servers "LIST"] [--scenarios "LIST"]
#                     [--out DIR] [--profile]
#   --quick       small sizes, one repeat (about a minute)
#   --repeat N    runs per figure (3; the table shows the median and range)
#   --servers     any of: heraldd heraldd-auto heraldd-2 heraldd-sio heraldd-pusher
#                 laravel-echo-server socketio ws nchan (all available but heraldd-2:
#                 two loops whatever the CPUs) and floor (never by default):
#                 bench/floor, the least server (one epoll loop, one write per
#                 subscriber per message): what the kernel alone costs
#                 and the clusters (never by default; --cluster picks them):
#                 heraldd-cluster      3 heraldd nodes + 1 redis-server, emits through node 1
#                 heraldd-cluster-all  the same, each publisher's emits over the 3 nodes in turn
#                 socketio-cluster     3 socket.io nodes + @socket.io/redis-adapter, emits through node 1
#   --scenarios   any of: a ap p1 p8 b1 b2 c x (all but ap and x)
#                 a  = 1,000 subscribers x a burst: delivered/s, server CPU per frame
#                 ap = a, with the window's emits pipelined on the emit connection
#                      (up to 32 requests in flight instead of one)
#                 p1 = 1,000 subscribers, one publisher that waits for each answer
#                      (a PHP request's emit): delivered/s, server CPU per frame
#                 p8 = the same with 8 such publishers at once (8 php-fpm workers)
#                 b1 = 10,000 subscribers x 2 msg/s: latency
#                 b2 = 5,000 subscribers x 10 msg/s: latency
#                 c  = 15,000 idle connections: RSS per connection, connect rate
#                 x  = 20 subscribers x 100 msg/s, single emits: emit->delivery
#                      latency; in a cluster the subscribers are on nodes 2 and 3
#   --cluster     the cluster comparison: servers "heraldd heraldd-cluster
#                 heraldd-cluster-all socketio socketio-cluster", scenarios "a p8 b2 x"
#   --clients N   subscribers in a, ap, p1 and p8 (1,000): with 333, one node
#                 carries what each node of the 3-node cluster does
#   --out DIR     keep results.jsonl, table.md and server logs there (a temp dir)
#   --profile     also profile heraldd during a burst (perf, else callgrind)
#   --baseline BIN  also run heraldd binary BIN (bench/build-at.sh COMMIT builds
#                 one) as "base" / "base-auto" / "base-cluster" / "base-cluster-all",
#                 each right after its heraldd twin, and print the change: a regression check
#                 whose two sides see the same machine load
# Every server is started on free 127.0.0.1 ports and stopped by its PID.
set -uo pipefail
cd "$(dirname "$0")"
bench=$(pwd)
top=$(cd .. && pwd)

quick=0 repeat="" servers="" scenarios="a p1 p8 b1 b2 c" clients="" out="" profile=0 baseline="" cluster=0 scenarios_set=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --repeat) repeat=$2; shift ;;
    --servers) servers=$2; shift ;;
    --scenarios) scenarios=$2; scenarios_set=1; shift ;;
    --clients) clients=$2; shift ;;
    --out) out=$2; shift ;;
    --profile) profile=1 ;;
    --baseline) baseline=$2; shift ;;
    --cluster) cluster=1 ;;
    -h|--help) sed -n '2,41p' "$bench/${0##*/}"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case $clients in ""|[1-9]|[1-9][0-9]|[1-9][0-9][0-9]|[1-9][0-9][0-9][0-9]) ;;
  *) echo "run.sh: --clients wants 1-9999 subscribers" >&2; exit 2 ;; esac
[ -n "$repeat" ] || { [ $quick = 1 ] && repeat=1 || repeat=3; }
if [ $cluster = 1 ]; then
  [ -n "$servers" ] || servers="heraldd heraldd-cluster heraldd-cluster-all socketio socketio-cluster"
  [ $scenarios_set = 1 ] || scenarios="a p8 b2 x"
fi
for s in $scenarios; do
  case $s in a|ap|p1|p8|b1|b2|c|x) ;; *) echo "run.sh: unknown scenario $s (a ap p1 p8 b1 b2 c x)" >&2; exit 2 ;; esac
done
if [ -z "$out" ]; then out=$(mktemp -d); fi
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

log() { echo "run.sh: $*" >&2; }

# ---- build what we need --------------------------------------------------
make -s -C "$bench" loadgen floor || { log "loadgen or floor does not build"; exit 1; }
heraldd="$top/daemon/heraldd"
have_heraldd=0
if make -s -j2 -C "$top/daemon" >"$out/heraldd-build.log" 2>&1 && [ -x "$heraldd" ]; then
  have_heraldd=1
else
  log "heraldd does not build yet (see $out/heraldd-build.log): its rows are skipped"
fi
have_workers=0
if [ $have_heraldd = 1 ] && "$heraldd" --help 2>&1 | grep -q -- '--workers'; then have_workers=1; fi
have_node=0
if command -v node >/dev/null; then
  if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
    log "npm install (bench peers)"
    npm install --no-audit --no-fund --no-package-lock --loglevel=error >"$out/npm.log" 2>&1 \
      && touch node_modules
  fi
  [ -d node_modules/socket.io ] && [ -d node_modules/ws ] && have_node=1
fi
have_echo=0
[ $have_node = 1 ] && [ -f node_modules/laravel-echo-server/bin/server.js ] && have_echo=1
nchan_mod=/usr/lib/nginx/modules/ngx_nchan_module.so
have_nchan=0
command -v nginx >/dev/null && [ -f "$nchan_mod" ] && have_nchan=1

if [ -z "$servers" ]; then
  servers=""
  [ $have_heraldd = 1 ] && servers+=" heraldd"
  [ $have_workers = 1 ] && servers+=" heraldd-auto"
  [ $have_heraldd = 1 ] && servers+=" heraldd-sio heraldd-pusher"
  [ $have_echo = 1 ] && servers+=" laravel-echo-server"
  [ $have_node = 1 ] && servers+=" socketio ws"
  [ $have_nchan = 1 ] && servers+=" nchan"
fi

if [ -z "$baseline" ] && [[ " $servers " == *" base"* ]]; then
  log "servers base/base-auto need --baseline BIN (bench/build-at.sh COMMIT builds one)"; exit 2
fi
if [ -n "$baseline" ]; then
  [ -x "$baseline" ] || { log "--baseline $baseline: not an executable heraldd"; exit 2; }
  twins=""
  for srv in $servers; do
    twins+=" $srv"
    case $srv in
      heraldd) twins+=" base" ;; heraldd-auto) twins+=" base-auto" ;;
      heraldd-cluster) twins+=" base-cluster" ;; heraldd-cluster-all) twins+=" base-cluster-all" ;;
    esac
  done
  servers=$twins
fi

# ---- servers ---------------------------------------------------------------
# shellcheck source=ports.sh
. "$bench/ports.sh"

SPID="" SDIR="" WS_PORT="" EMIT_PORT="" LG_ARGS=() CPIDS=() RPID="" NODE_PORTS=() NODE_EMITS=()

# A cluster: one redis-server on loopback (no persistence) and 3 nodes on
# it, each with its own ports; SPID is node 1, CPIDS every node (stopped
# and measured together), RPID the redis-server (measured apart).
start_cluster() {
  local name=$1 rport i
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --protected-mode no --logfile "$SDIR/redis.log" >/dev/null 2>&1 &
  RPID=$!
  wait_port "$rport" $RPID || return 1
  (umask 077; head -c 32 /dev/urandom | base64 > "$SDIR/secret")
  NODE_PORTS=() NODE_EMITS=()
  for i in 1 2 3; do
    local wp ep pid
    wp=$(free_port) ep=$(free_port)
    while [ "$ep" = "$wp" ] || [[ " ${NODE_PORTS[*]} ${NODE_EMITS[*]} " == *" $wp "* ]] ||
          [[ " ${NODE_PORTS[*]} ${NODE_EMITS[*]} " == *" $ep "* ]]; do wp=$(free_port) ep=$(free_port); done
    case $name in
      heraldd-cluster*|base-cluster*)
        local bin=$heraldd
        [[ $name == base* ]] && bin=$baseline
        "$bin" --listen "127.0.0.1:$wp" --emit "127.0.0.1:$ep" --redis "redis://127.0.0.1:$rport" \
          --secret-file "$SDIR/secret" --public-channels 'bench*' \
          --max-connections 19000 --max-connections-per-ip 0 --log-level warn >"$SDIR/log.$i" 2>&1 & ;;
      socketio-cluster)
        node "$bench/peers/socketio.js" --io-port "$wp" --emit-port "$ep" \
          --redis "redis://127.0.0.1:$rport" >"$SDIR/log.$i" 2>&1 & ;;
    esac
    pid=$!
    CPIDS+=("$pid")
    NODE_PORTS+=("$wp") NODE_EMITS+=("$ep")
    wait_port "$ep" "$pid" && wait_port "$wp" "$pid" || return 1
  done
  # a node answers 503 to emits until its Redis link is up
  if [[ $name == heraldd-cluster* || $name == base-cluster* ]]; then
    for ep in "${NODE_EMITS[@]}"; do
      for i in $(seq 100); do
        curl -sf -m 2 -H "Authorization: Bearer $(head -1 "$SDIR/secret")" "http://127.0.0.1:$ep/stats" |
          grep -q '"redis_link_up": *1' && break
        sleep 0.05
      done
    done
  fi
  SPID=${CPIDS[0]} WS_PORT=${NODE_PORTS[0]} EMIT_PORT=${NODE_EMITS[0]}
  local proto=heraldd emits=${NODE_EMITS[0]}
  [ "$name" = socketio-cluster ] && proto=socketio
  [[ $name == *-cluster-all ]] && emits=$(IFS=,; echo "${NODE_EMITS[*]}")
  LG_ARGS=(--proto "$proto" --port "$(IFS=,; echo "${NODE_PORTS[*]}")" --emit-port "$emits"
           --aux-pid "$RPID")
}

# The subscribers of scenario x: in a cluster on nodes 2 and 3 only, so
# every delivery crossed Redis from the node that took the emit.
cross_node_ports() {
  if [ ${#NODE_PORTS[@]} -gt 1 ]; then
    local IFS=,
    echo "--port ${NODE_PORTS[*]:1}"
  fi
}

start_server() {
  local name=$1
  CPIDS=() RPID="" NODE_PORTS=() NODE_EMITS=()
  WS_PORT=$(free_port) EMIT_PORT=$(free_port)
  while [ "$EMIT_PORT" = "$WS_PORT" ]; do EMIT_PORT=$(free_port); done
  SDIR=$(mktemp -d -p "$out" "$name.XXXX")
  case "$name" in
    heraldd-cluster|heraldd-cluster-all|base-cluster|base-cluster-all|socketio-cluster)
      start_cluster "$name" ;;
    heraldd|heraldd-auto|heraldd-2|heraldd-sio|heraldd-pusher|base|base-auto)
      local extra=() proto=heraldd bin=$heraldd
      [[ $name == *-auto ]] && extra=(--workers auto)
      [ "$name" = heraldd-2 ] && extra=(--workers 2)
      [[ $name == base* ]] && bin=$baseline
      # heraldd speaking socket.io to the same socket.io clients as the peer
      [ "$name" = heraldd-sio ] && { extra=(--socketio-channels 'bench*'); proto=socketio; }
      # heraldd speaking the Pusher protocol (pusher-js, Laravel Echo)
      if [ "$name" = heraldd-pusher ]; then
        (umask 077; echo "1:benchkey:$(head -c 24 /dev/urandom | base64)" > "$SDIR/apps")
        extra=(--pusher-apps-file "$SDIR/apps"); proto=pusher
      fi
      (umask 077; head -c 32 /dev/urandom | base64 > "$SDIR/secret")
      "$bin" --listen "127.0.0.1:$WS_PORT" --emit "127.0.0.1:$EMIT_PORT" \
        --secret-file "$SDIR/secret" --public-channels 'bench*' \
        --max-connections 19000 --max-connections-per-ip 0 --log-level warn "${extra[@]}" >"$SDIR/log" 2>&1 &
      SPID=$!
      LG_ARGS=(--proto "$proto" --port "$WS_PORT" --emit-port "$EMIT_PORT")
      wait_port "$EMIT_PORT" $SPID && wait_port "$WS_PORT" $SPID ;;
    socketio)
      node "$bench/peers/socketio.js" --io-port "$WS_PORT" --emit-port "$EMIT_PORT" >"$SDIR/log" 2>&1 &
      SPID=$!
      LG_ARGS=(--proto socketio --port "$WS_PORT" --emit-port "$EMIT_PORT")
      wait_port "$EMIT_PORT" $SPID ;;
    laravel-echo-server)
      # One public channel: authHost is never asked (it is for private- and
      # presence- channels); the sqlite "database" (presence only) is left
      # unloaded, as its native module is not installed; no Redis
      # subscriber: messages come through its HTTP API with the client key.
      cat > "$SDIR/laravel-echo-server.json" <<EOF
{"authHost": "http://127.0.0.1:1", "authEndpoint": "/broadcasting/auth",
 "clients": [{"appId": "bench", "key": "benchkey"}],
 "database": "sqlite", "databaseConfig": {"redis": {}, "sqlite": {"databasePath": "/unused.sqlite"}},
 "devMode": false, "host": "127.0.0.1", "port": $WS_PORT, "protocol": "http", "socketio": {},
 "subscribers": {"http": true, "redis": false}, "apiOriginAllow": {"allowCors": false}}
EOF
      (cd "$SDIR" && exec node "$bench/node_modules/laravel-echo-server/bin/server.js" start \
        --config=laravel-echo-server.json) >"$SDIR/log" 2>&1 &
      SPID=$!
      EMIT_PORT=$WS_PORT
      LG_ARGS=(--proto echo --port "$WS_PORT" --emit-port "$WS_PORT")
      wait_port "$WS_PORT" $SPID ;;
    ws)
      node "$bench/peers/ws.js" --ws-port "$WS_PORT" --emit-port "$EMIT_PORT" >"$SDIR/log" 2>&1 &
      SPID=$!
      LG_ARGS=(--proto ws --port "$WS_PORT" --emit-port "$EMIT_PORT")
      wait_port "$EMIT_PORT" $SPID ;;
    floor)
      # the same loadgen command as heraldd's: floor answers its subscribe
      "$bench/floor" --ws-port "$WS_PORT" --emit-port "$EMIT_PORT" >"$SDIR/log" 2>&1 &
      SPID=$!
      LG_ARGS=(--proto heraldd --port "$WS_PORT" --emit-port "$EMIT_PORT")
      wait_port "$EMIT_PORT" $SPID && wait_port "$WS_PORT" $SPID ;;
    nchan)
      sed -e "s|@PREFIX@|$SDIR|g; s|@MODULES@|$(dirname $nchan_mod)|; s|@SUB_PORT@|$WS_PORT|; s|@PUB_PORT@|$EMIT_PORT|" \
        "$bench/peers/nchan.conf.in" > "$SDIR/nchan.conf"
      nginx -p "$SDIR" -c "$SDIR/nchan.conf" -e "$SDIR/error.log" >"$SDIR/log" 2>&1 &
      SPID=$!
      LG_ARGS=(--proto nchan --port "$WS_PORT" --emit-port "$EMIT_PORT")
      wait_port "$EMIT_PORT" $SPID && wait_port "$WS_PORT" $SPID ;;
    *) log "unknown server $name"; return 1 ;;
  esac
}

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

stop_server() {
  local p
  for p in "${CPIDS[@]}"; do stop_pid "$p"; done
  [ -n "$RPID" ] && stop_pid "$RPID"
  [ -n "$SPID" ] && [ ${#CPIDS[@]} = 0 ] && stop_pid "$SPID"
  SPID="" RPID="" CPIDS=()
}
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

# ---- scenarios -------------------------------------------------------------
scenario_args() {
  local s=$1
  case $s in a|ap|p1|p8) [ -n "$clients" ] && { scenario_size "$s"; echo "--clients $clients"; return; } ;; esac
  scenario_size "$s"
}

scenario_size() {
  local s=$1
  if [ $quick = 1 ]; then
    case $s in
      a)  echo "--clients 200 --messages 100 --window 32" ;;
      ap) echo "--clients 200 --messages 100 --window 32 --pipeline 32" ;;
      p1) echo "--clients 200 --messages 100" ;;
      p8) echo "--clients 200 --messages 100 --publishers 8" ;;
      b1) echo "--clients 1000 --messages 12 --rate 4 --warmup 2" ;;
      b2) echo "--clients 500 --messages 12 --rate 10 --warmup 2" ;;
      c)  echo "--clients 2000 --messages 0 --hold-ms 500" ;;
      x)  echo "--clients 20 --messages 100 --rate 100 --warmup 10" ;;
    esac
  else
    case $s in
      a)  echo "--clients 1000 --messages 300 --window 32" ;;
      # (a) sends one emit at a time whatever the window; here the window's
      # emits are pipelined on the connection, as a client that does not
      # wait for each answer (emit_many's deferred emits) would.
      ap) echo "--clients 1000 --messages 300 --window 32 --pipeline 32" ;;
      # No window: a PHP worker knows nothing of delivery, it only waits for
      # its 202 before the next emit.
      p1) echo "--clients 1000 --messages 500" ;;
      p8) echo "--clients 1000 --messages 500 --publishers 8" ;;
      b1) echo "--clients 10000 --messages 12 --rate 2 --warmup 2" ;;
      b2) echo "--clients 5000 --messages 42 --rate 10 --warmup 2" ;;
      c)  echo "--clients 15000 --messages 0 --hold-ms 1000" ;;
      # one emit at a time at 100/s, each delivered alone: the hop's cost
      x)  echo "--clients 20 --messages 1000 --rate 100 --warmup 20" ;;
    esac
  fi
}

start=$(date +%s)
# The machine may be shared: say how busy it was when the run began.
load_before=$(cat /proc/loadavg)
log "results in $out; servers:$servers; scenarios: $scenarios; repeat $repeat"
for rep in $(seq "$repeat"); do
  for s in $scenarios; do
    for srv in $servers; do
      if ! start_server "$srv"; then
        log "$srv did not start (log: $SDIR/log)"
        echo "{\"label\":\"$srv/$s/$rep\",\"error\":\"server did not start\"}" >> "$results"
        stop_server
        continue
      fi
      xports=()
      [ "$s" = x ] && read -ra xports <<<"$(cross_node_ports)"
      pids=$SPID
      [ ${#CPIDS[@]} -gt 0 ] && pids=$(IFS=,; echo "${CPIDS[*]}")
      # shellcheck disable=SC2046
      ./loadgen "${LG_ARGS[@]}" "${xports[@]}" $(scenario_args "$s") --server-pid "$pids" --server-children \
        --connect-timeout-ms 20000 --drain-ms 5000 --deadline-s 150 \
        --label "$srv/$s/$rep" >>"$results" 2>"$SDIR/loadgen.err"
      rc=$?
      sed 's/^/  /' "$SDIR/loadgen.err" >&2
      # heraldd's per-loop counters (after one sweep tick, so every loop's
      # copy is current): how connections and fan-out spread over the loops.
      if [[ $srv == heraldd* || $srv == base* ]] && kill -0 "$SPID" 2>/dev/null; then
        sleep 1.1
        st=$(curl -sf -m 5 -H "Authorization: Bearer $(head -1 "$SDIR/secret")" \
          "http://127.0.0.1:$EMIT_PORT/stats" | tr -d '\n')
        [ -n "$st" ] && echo "{\"label\":\"$srv/$s/$rep\",\"stats\":$st}" >> "$out/stats.jsonl"
      fi
      [ $rc -ge 2 ] && log "$srv/$s/$rep: loadgen failed (rc $rc)"
      stop_server
    done
  done
done

if [ $profile = 1 ] && [ $have_heraldd = 1 ]; then
  "$bench/profile.sh" "$out" || log "profiling failed"
fi

node "$bench/report.js" "$results" | tee "$out/table.md"
echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(uname -sr)"
echo "load average before: $load_before; after: $(cat /proc/loadavg)"
echo "total time: $(( $(date +%s) - start ))s; raw results: $results"
