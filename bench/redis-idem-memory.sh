#!/bin/sh
# What a cluster's idempotency keys cost Redis (README "Several servers"):
# N keys shaped as the publish script writes them (SET herald:{channel}:k:<key>
# <id> PX <window>), with the extension's 22-character keys, into a fresh
# redis-server on a free loopback port; prints used_memory per key.
# Usage: bench/redis-idem-memory.sh [N] [CHANNEL]
set -eu
n=${1:-100000}
ch=${2:-orders.user-4242}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pid=$!
trap 'kill $pid' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
used() { redis-cli -p "$port" info memory | tr -d '\r' | sed -n 's/^used_memory://p'; }
before=$(used)
python3 -c "
import random, string
for i in range($n):
    k = ''.join(random.choice(string.ascii_letters) for _ in range(16)) + '%06d' % i
    print('SET herald:{$ch}:k:%s 1795960411840%03d PX 300000' % (k, i % 1000))
" | redis-cli -p "$port" --pipe >/dev/null
after=$(used)
echo "$(redis-server --version | cut -d' ' -f3): $n keys on {$ch}: $(( (after - before) / n )) bytes per key"
