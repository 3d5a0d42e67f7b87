#!/usr/bin/env bash
# What an emit costs a PHP request, end to end (issue 18): nginx -> php-fpm
# (static pool of 8, opcache, the extension built from this tree) ->
# heraldd with 10 WebSocket subscribers, against the 2013 route (PHP curl
# per call -> Express -> socket.io 4 with 10 subscribers), in one run.
#
# Usage: bench/e2e.sh [--quick] [--repeat N] [--requests N] [--warmup N]
#                     [--conc "1 8 32"] [--routes "LIST"] [--out DIR] [--profile]
#   --quick       400 requests after 100 of warm-up, c = 1 and 8, one repeat
#   --repeat N    runs per cell (3; the table shows the median and range)
#   --requests N  counted requests per cell (20000), after --warmup N (2000)
#   --conc LIST   client connections, one request in flight each (1 8 32)
#   --routes LIST any of: none emit emit_many defer curl2013 (all)
#                 none      = the baseline: PHP answers "ok", no emit
#                 emit      = Herald\emit() of one message (Unix socket)
#                 emit_many = Herald\emit_many() of 10 messages, one request
#                 defer     = Herald\defer() of one message, sent at shutdown
#                 curl2013  = curl_init per call, GET to Express, io.emit()
#   --out DIR     keep results.jsonl, table.md and every log there (a temp dir)
#   --profile     then profile heraldd (or floor) and the php-fpm workers with perf
#                 (cpu-clock) during the emit route at c=8
#   --heraldd PATH, --ext PATH   measure another heraldd binary (bench/build-at.sh
#                 COMMIT prints one) or herald.so, e.g. a commit's, to compare
#   --floor       bench/floor in heraldd's place (the least server: one write per
#                 subscriber per message): what the kernel alone costs per emit;
#                 routes none emit curl2013 (floor answers single emits only;
#                 emit_many and defer send batches)
#   --subscribers N  WebSocket subscribers on heraldd (or floor) (10; 0: none,
#                 what the emit request alone costs the server)
# Every process is started on free 127.0.0.1 ports / temp sockets and stopped
# by its PID. Prints one Markdown table (bench/e2e-report.js).
set -uo pipefail
cd "$(dirname "$0")" || exit 2
bench=$(pwd)
top=$(cd .. && pwd)

quick=0 repeat="" requests="" warmup="" conc="" routes="none emit emit_many defer curl2013"
out="" profile=0 heraldd_bin="" ext_so="" floor=0 nsubs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --repeat) repeat=$2; shift ;;
    --requests) requests=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --conc) conc=$2; shift ;;
    --routes) routes=$2; shift ;;
    --out) out=$2; shift ;;
    --profile) profile=1 ;;
    --heraldd) heraldd_bin=$2; shift ;;
    --ext) ext_so=$2; shift ;;
    --floor) floor=1 ;;
    --subscribers) nsubs=$2; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "e2e.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  : "${repeat:=1}" "${requests:=400}" "${warmup:=100}" "${conc:=1 8}"
else
  : "${repeat:=3}" "${requests:=20000}" "${warmup:=2000}" "${conc:=1 8 32}"
fi
for r in $routes; do
  case $r in none|emit|emit_many|defer|curl2013) ;;
    *) echo "e2e.sh: unknown route $r (none emit emit_many defer curl2013)" >&2; exit 2 ;;
  esac
done
# the server the extension emits to: heraldd, or floor with --floor
srv=heraldd
if [ $floor = 1 ]; then
  srv=floor
  for r in emit_many defer; do  # both send batches to POST /emit, answered {"ids":[..]}
    if [[ " $routes " == *" $r "* ]]; then
      routes=$(echo " $routes " | sed "s/ $r / /")
      echo "e2e.sh: --floor: no $r route (floor answers single emits only)" >&2
    fi
  done
fi
for n in "$nsubs" "$repeat" "$requests" "$warmup" $conc; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "e2e.sh: not a number: $n" >&2; exit 2; }
done
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.jsonl"
: >"$results"
log() { echo "e2e.sh: $*" >&2; }
fail() { log "$*"; exit 1; }

# ---- what it needs ---------------------------------------------------------
fpm_bin=$(command -v php-fpm8.2 || command -v php-fpm) || fail "php-fpm missing (scripts/setup)"
command -v nginx >/dev/null || fail "nginx missing (scripts/setup)"
command -v node >/dev/null || fail "node missing (scripts/setup)"
make -s -C "$bench" loadgen httpload floor || fail "bench/loadgen, httpload or floor does not build"
make -s -j2 -C "$top/daemon" >"$out/heraldd-build.log" 2>&1 || fail "heraldd does not build ($out/heraldd-build.log)"
if [ -n "$ext_so" ]; then ext=$ext_so
else ext=$("$top/scripts/build-ext" 2>"$out/ext-build.log") || fail "the PHP extension does not build ($out/ext-build.log)"
fi
# php-fpm maps this copy: a rebuild of the tree's herald.so (a test suite)
# would crash the workers mid-run
cp "$ext" "$out/herald.so" || fail "cannot copy $ext"
ext=$out/herald.so
: "${heraldd_bin:=$top/daemon/heraldd}"
opcache=$(php -n -r 'echo ini_get("extension_dir");')/opcache.so
[ -f "$opcache" ] || fail "opcache.so missing in PHP's extension_dir"
if [[ " $routes " == *" curl2013 "* ]]; then
  if [ ! -d node_modules/socket.io ] || [ package.json -nt node_modules ]; then
    log "npm install (bench peers)"
    npm install --no-audit --no-fund --no-package-lock --loglevel=error >"$out/npm.log" 2>&1 \
      && touch node_modules
  fi
  if [ ! -d node_modules/socket.io ] || [ ! -d node_modules/express ]; then
    fail "socket.io/express missing in bench/node_modules (see $out/npm.log)"
  fi
fi

# shellcheck source=ports.sh
. "$bench/ports.sh"

PIDS=()
declare -A SUBS_PID
stop_all() {
  local i p
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    p=${PIDS[i]}
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  PIDS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Wait until FILE holds TEXT (10 s at most), giving up when PID is gone.
wait_text() {
  local file=$1 text=$2 pid=$3
  for _ in $(seq 200); do
    grep -q "$text" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Fill a template's @NAME@ placeholders from NAME=VALUE arguments; a
# placeholder left over is an error.
render() {
  local tpl=$1 dst=$2 kv
  shift 2
  cp "$tpl" "$dst"
  for kv in "$@"; do sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$dst"; done
  ! grep -q '@[A-Z_]*@' "$dst" || fail "$dst: placeholder left: $(grep -o '@[A-Z_]*@' "$dst" | head -1)"
}

# ---- start everything -----------------------------------------------------
d="$out/run"
mkdir -p "$d"/{client_body,proxy,fastcgi,uwsgi,scgi}
chmod 755 "$out" "$d"
ws_port=$(free_port)
(umask 077; head -c 32 /dev/urandom | base64 >"$d/secret")
if [ $floor = 1 ]; then
  "$bench/floor" --ws-port "$ws_port" --emit-unix "$d/emit.sock" >"$d/$srv.log" 2>&1 &
else
  "$heraldd_bin" --listen "127.0.0.1:$ws_port" --emit_listen "unix:$d/emit.sock" \
    --secret-file "$d/secret" --public-channels 'bench*' --log-level warn >"$d/$srv.log" 2>&1 &
fi
heraldd_pid=$!
PIDS+=("$heraldd_pid")
wait_port "$ws_port" $heraldd_pid || fail "$srv did not start: $(tail -3 "$d/$srv.log")"
for _ in $(seq 200); do [ -S "$d/emit.sock" ] && break; sleep 0.05; done
[ -S "$d/emit.sock" ] || fail "$srv made no emit socket"

node_pid="" io_emit="127.0.0.1:1"
if [[ " $routes " == *" curl2013 "* ]]; then
  io_port=$(free_port) io_emit_port=$(free_port)
  while [ "$io_emit_port" = "$io_port" ]; do io_emit_port=$(free_port); done
  node "$bench/peers/socketio.js" --io-port "$io_port" --emit-port "$io_emit_port" >"$d/socketio.log" 2>&1 &
  node_pid=$!
  PIDS+=("$node_pid")
  wait_port "$io_emit_port" $node_pid || fail "the socket.io peer did not start: $(tail -3 "$d/socketio.log")"
  io_emit="127.0.0.1:$io_emit_port"
fi

# Subscribers on each server (10; heraldd's: --subscribers), counting what
# arrives until told to stop.
subscribers() {
  local name=$1 n=$2
  shift 2
  ./loadgen "$@" --clients "$n" --until-signal --hold-ms 0 --deadline-s 7200 \
    --label "subs-$name" >"$d/subs-$name.json" 2>"$d/subs-$name.err" &
  local pid=$!
  PIDS+=("$pid")
  wait_text "$d/subs-$name.err" 'subscribers ready' $pid ||
    fail "the $name subscribers did not get ready: $(cat "$d/subs-$name.err")"
  SUBS_PID[$name]=$pid
}
got_h=0
[ "$nsubs" -gt 0 ] && subscribers heraldd "$nsubs" --proto heraldd --port "$ws_port"
[ -n "$node_pid" ] && subscribers socketio 10 --proto socketio --port "$io_port"

root_flags=()
[ "$(id -u)" = 0 ] && root_flags=(-R)
render "$bench/e2e/php-fpm.conf.in" "$d/php-fpm.conf" PREFIX="$d" FPM_SOCKET="$d/php-fpm.sock" \
  EMIT="unix://$d/emit.sock"
"$fpm_bin" -n -d extension=curl -d "zend_extension=$opcache" -d opcache.enable=1 \
  -d "extension=$ext" -F -y "$d/php-fpm.conf" -p "$d" "${root_flags[@]}" >"$d/php-fpm.out" 2>&1 &
fpm_pid=$!
PIDS+=("$fpm_pid")
for _ in $(seq 200); do [ -S "$d/php-fpm.sock" ] && break; kill -0 $fpm_pid 2>/dev/null || break; sleep 0.05; done
[ -S "$d/php-fpm.sock" ] || fail "php-fpm did not start: $(tail -3 "$d/php-fpm.out" "$d/php-fpm.log" 2>/dev/null)"

web_port=$(free_port)
render "$bench/e2e/nginx.conf.in" "$d/nginx.conf" PREFIX="$d" LISTEN="127.0.0.1:$web_port" \
  ROOT="$bench/e2e" FPM_SOCKET="$d/php-fpm.sock" SOCKETIO_EMIT="$io_emit"
# As root nginx would hand its worker to "nobody", who may not reach
# php-fpm's socket in this temp dir: keep it as root.
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$d/nginx.conf"
nginx -p "$d" -c "$d/nginx.conf" -e "$d/nginx-error.log" >"$d/nginx.out" 2>&1 &
nginx_pid=$!
PIDS+=("$nginx_pid")
wait_port "$web_port" $nginx_pid || fail "nginx did not start: $(tail -3 "$d/nginx.out" "$d/nginx-error.log" 2>/dev/null)"

# Each route answers "ok" once before the clock runs (and emits once).
declare -A per_req=([none]=0 [emit]=1 [emit_many]=10 [defer]=1 [curl2013]=1)
sent_h=0 sent_io=0
count_sent() {  # ROUTE N: N requests of ROUTE were answered
  if [ "$1" = curl2013 ]; then sent_io=$((sent_io + $2))
  else sent_h=$((sent_h + $2 * per_req[$1])); fi
}
for r in $routes; do
  body=$(curl -s -m 5 "http://127.0.0.1:$web_port/$r")
  [ "$body" = ok ] || fail "route /$r answered: ${body:-nothing} (logs in $d)"
  count_sent "$r" 1
done

cpu_args=(--cpu "php-fpm=$fpm_pid" --cpu "nginx=$nginx_pid" --cpu "$srv=$heraldd_pid")
[ -n "$node_pid" ] && cpu_args+=(--cpu "node=$node_pid")

# ---- measure -------------------------------------------------------------
start=$(date +%s)
cat /proc/loadavg >"$out/loadavg"
log "results in $out; routes: $routes; c: $conc; $warmup + $requests requests; repeat $repeat"
errors=0
for rep in $(seq "$repeat"); do
  for c in $conc; do
    for r in $routes; do
      ./httpload --port "$web_port" --path "/$r" --connections "$c" --warmup "$warmup" \
        --requests "$requests" "${cpu_args[@]}" --deadline-s 600 --label "$r/$c/$rep" \
        >>"$results" 2>"$d/httpload.err"
      rc=$?
      sed 's/^/  /' "$d/httpload.err" >&2
      [ $rc = 0 ] || errors=$((errors + 1))
      count_sent "$r" $((warmup + requests))
    done
  done
done

# ---- where the time goes (perf) -------------------------------------------
# Two passes of the emit route at c=8: first `perf stat` counts syscalls and
# context switches of heraldd and of the php-fpm workers, then `perf record`
# samples them (cpu-clock: VMs rarely expose hardware counters; DWARF call
# graphs, since the builds keep no frame pointers).
if [ $profile = 1 ]; then
  if perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    workers=$(pgrep -P "$fpm_pid" | paste -sd,)
    n=20000
    [ $quick = 1 ] && n=2000
    prof_run() {  # LABEL: n requests of /emit at c=8 while perf watches
      sleep 1   # perf attaches
      ./httpload --port "$web_port" --path /emit --connections 8 --warmup 0 --requests "$n" \
        "${cpu_args[@]}" --label "$1" >"$out/$1.json" 2>&1
      count_sent emit "$n"
    }
    stat_ev='syscalls:sys_enter_*,context-switches'
    perf stat -e "$stat_ev" -p "$heraldd_pid" -o "$out/perf-stat-$srv.txt" &
    s1=$!
    perf stat -e "$stat_ev" -p "$workers" -o "$out/perf-stat-php-fpm.txt" &
    s2=$!
    prof_run profile-stat
    kill -INT $s1 $s2
    wait $s1 $s2
    perf record -e cpu-clock -F 2000 --call-graph dwarf,8192 -p "$heraldd_pid" \
      -o "$out/perf-$srv.data" >"$out/perf-$srv.log" 2>&1 &
    p1=$!
    perf record -e cpu-clock -F 1000 --call-graph dwarf,8192 -p "$workers" \
      -o "$out/perf-php-fpm.data" >"$out/perf-php-fpm.log" 2>&1 &
    p2=$!
    prof_run profile-record
    kill -INT $p1 $p2
    wait $p1 $p2
    for who in $srv php-fpm; do
      {
        echo "# $who during $n requests of /emit at c=8"
        echo "## syscalls and context switches per request (perf stat)"
        awk -v n="$n" '$1 ~ /^[0-9,]+$/ { c = $1; gsub(",", "", c); if (c + 0 > 0)
          { sub("syscalls:sys_enter_", "", $2); printf "  %-22s %8.2f\n", $2, c / n; t += ($2 != "context-switches") * c } }
          END { printf "  %-22s %8.2f\n", "(all syscalls)", t / n }' "$out/perf-stat-$who.txt"
        echo "## by object (perf record -e cpu-clock, self time)"
        perf report -i "$out/perf-$who.data" --no-children -g none --sort dso --stdio 2>/dev/null \
          | grep -E '^ +[0-9]' | head -12
        echo "## top symbols, self time"
        perf report -i "$out/perf-$who.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null \
          | grep -E '^ +[0-9]' | head -30
        echo "## inclusive time (children) of the top functions"
        perf report -i "$out/perf-$who.data" --children -g none --sort symbol --stdio 2>/dev/null \
          | grep -E '^ +[0-9]' | head -45
      } >"$out/profile-$who.txt"
    done
    log "profiles in $out/profile-$srv.txt and $out/profile-php-fpm.txt"
  else
    log "perf cannot record here: no profile"
  fi
fi

# ---- did every message arrive? -----------------------------------------------
sleep 0.5
if [ "$nsubs" -gt 0 ]; then
  kill -TERM "${SUBS_PID[heraldd]}" 2>/dev/null
  wait "${SUBS_PID[heraldd]}" 2>/dev/null
  got_h=$(sed -n 's/.*"other_frames":\([0-9]*\).*/\1/p' "$d/subs-heraldd.json")
fi
got_io=0
if [ -n "$node_pid" ]; then
  kill -TERM "${SUBS_PID[socketio]}" 2>/dev/null
  wait "${SUBS_PID[socketio]}" 2>/dev/null
  got_io=$(sed -n 's/.*"other_frames":\([0-9]*\).*/\1/p' "$d/subs-socketio.json")
fi
stop_all

node "$bench/e2e-report.js" "$results" | tee "$out/table.md"
echo
echo "Delivered to the $nsubs $srv subscribers: ${got_h:-?} of $((sent_h * nsubs)) frames;" \
  "to the 10 socket.io subscribers: ${got_io:-?} of $((sent_io * 10))." | tee -a "$out/table.md"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(uname -sr);" \
  "load before: $(cat "$out/loadavg" 2>/dev/null || echo ?)"
echo "total time: $(( $(date +%s) - start ))s; raw results: $results"
[ "${got_h:-x}" = $((sent_h * nsubs)) ] && [ "${got_io:-x}" = $((sent_io * 10)) ] && [ $errors = 0 ]
