# Sourced by bench/run.sh, bench/profile.sh and the bench-smoke suite: free
# loopback ports and waiting for a server to accept on one.

# A port below the ephemeral range (32768+), so the load generator's own
# sockets never take it; free when nothing accepts on it.
free_port() {
  local p i
  for i in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo $p; return 0; fi
  done
  return 1
}

# Readiness: PORT accepts a connection. Polled for at most 10 s, and given
# up as soon as process PID is gone.
wait_port() {
  local port=$1 pid=$2 i
  for i in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
