#!/usr/bin/env bash
# Operations, checked with the real tools:
#   - `promtool check metrics` (Debian's prometheus) on a live heraldd's
#     /metrics, after an emit and with a subscriber, so every family has data;
#   - the example alert rules: `promtool check rules`, and `promtool test
#     rules` (tests/ops/herald-alerts.test.yml: each alert fires when it should);
#   - the systemd secret steps (daemon/heraldd.service.in's header, the same
#     lines in README "Under systemd") run as written in a temp dir standing
#     for /etc/herald: a www-data process reads the secret and signs the
#     same names as heraldd, heraldd reads it as a herald-like system user
#     with the unit's supplementary group www-data, another user cannot.
# Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
top=$(pwd)
PASS=0 FAIL=0
ok()     { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }
check()  { local name=$1; shift; if out=$("$@" 2>&1); then ok "$name"; else echo "$out" | tail -20; not_ok "$name"; fi; }
finish() { echo "${PASS} passed, ${FAIL} failed"; [ "$FAIL" = 0 ]; exit $?; }

command -v promtool >/dev/null || { not_ok "promtool missing (scripts/setup installs prometheus)"; finish; }
make -C daemon -j2 >/dev/null || { not_ok "heraldd does not build"; finish; }
ext=$(scripts/build-ext) || { not_ok "the PHP extension does not build"; finish; }

tmp=$(mktemp -d -t herald-ops.XXXXXX)
hd_pid=""
cleanup() { [ -n "$hd_pid" ] && kill "$hd_pid" 2>/dev/null && wait "$hd_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# --- /metrics through promtool ------------------------------------------
port=$(php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
(umask 077; openssl rand -base64 32 >"$tmp/secret")
daemon/heraldd --listen "127.0.0.1:$port" --emit_listen "unix:$tmp/emit.sock" --secret_file "$tmp/secret" \
  --public_channels 'news' 2>"$tmp/heraldd.log" &
hd_pid=$!
emit() { curl -sf --max-time 5 --unix-socket "$tmp/emit.sock" "$@"; }
for _ in $(seq 100); do emit http://localhost/healthz >/dev/null 2>&1 && break; sleep 0.05; done
# a subscriber (SSE, for two seconds) and two emits, one of them delivered
curl -sN --max-time 2 "http://127.0.0.1:$port/sse?channel=news" >"$tmp/sse.out" 2>/dev/null &
sse_pid=$!
for _ in $(seq 100); do grep -q subscribed "$tmp/sse.out" 2>/dev/null && break; sleep 0.05; done
emit -X POST --data 'hello' http://localhost/emit/news >/dev/null
emit -X POST --data 'nobody' http://localhost/emit/other >/dev/null
if emit http://localhost/metrics >"$tmp/metrics" && grep -q '^herald_frames_delivered_total{loop="0"} [1-9]' "$tmp/metrics"; then
  check "promtool_check_metrics_accepts_heraldd_metrics" promtool check metrics <"$tmp/metrics"
else
  cat "$tmp/heraldd.log"; not_ok "promtool_check_metrics_accepts_heraldd_metrics (no /metrics with a delivered frame)"
fi
kill "$sse_pid" 2>/dev/null; wait "$sse_pid" 2>/dev/null
# promtool itself must be able to fail: a counter without _total is linted.
printf '# HELP herald_bad a counter without the suffix\n# TYPE herald_bad counter\nherald_bad 1\n' >"$tmp/bad"
if promtool check metrics <"$tmp/bad" >/dev/null 2>&1; then not_ok "promtool_check_metrics_refuses_a_bad_counter"
else ok "promtool_check_metrics_refuses_a_bad_counter"; fi
kill "$hd_pid"; wait "$hd_pid" 2>/dev/null; hd_pid=""

# --- alert rules ---------------------------------------------------------
check "promtool_check_rules_accepts_the_example_alerts" promtool check rules examples/prometheus/herald-alerts.yml
check "promtool_test_rules_alerts_fire_when_they_should" promtool test rules tests/ops/herald-alerts.test.yml

# --- the systemd secret steps ---------------------------------------------
unit=daemon/heraldd.service.in
# The header's commands: "#   install ..." and "#   openssl ..." lines.
mapfile -t steps < <(sed -n 's/^#   \(install .*\|openssl .*\)$/\1/p' "$unit")
missing=0
for s in "${steps[@]}"; do grep -qF -- "$s" README.md || { echo "README lacks: $s"; missing=1; }; done
if [ ${#steps[@]} -ge 3 ] && [ $missing = 0 ]; then ok "readme_lists_the_unit_header_secret_steps"
else echo "steps found: ${#steps[@]}"; not_ok "readme_lists_the_unit_header_secret_steps"; fi

if [ "$(id -u)" != 0 ]; then
  echo "# skip: the secret permission checks need root (install -o, other users)"
  finish
fi
etc="$tmp/etc/herald"           # stands for /etc/herald
mkdir -p "$tmp/etc"; chmod 0755 "$tmp" "$tmp/etc"
rc=0
for s in "${steps[@]}"; do
  s=${s//\/etc\/herald/$etc}
  s=${s//\/usr\/local\/share\/herald\/heraldd.conf.example/$top\/daemon\/heraldd.conf}
  bash -c "$s" || { echo "step failed: $s"; rc=1; }
done
# "and set in /etc/herald/heraldd.conf": the two keys the header names
printf 'secret_file = %s/secret\nemit_socket_group = www-data\nemit_listen = none\n' "$etc" >>"$etc/heraldd.conf"
perms=$(stat -c '%U:%G %a' "$etc" "$etc/secret" "$etc/heraldd.conf" | tr '\n' ' ')
if [ $rc = 0 ] && [ "$perms" = "root:www-data 750 root:www-data 640 root:www-data 640 " ]; then ok "secret_steps_run_as_written"
else echo "got: $perms"; not_ok "secret_steps_run_as_written"; fi

as_www=(setpriv --reuid=www-data --regid=www-data --init-groups)
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
# heraldd's account: a system user (no passwd entry needed here) whose only
# way in is the unit's SupplementaryGroups=www-data.
as_herald=(setpriv --reuid=64999 --regid=64999 --groups="$(getent group www-data | cut -d: -f3)")
as_herald_nogroup=(setpriv --reuid=64999 --regid=64999 --clear-groups)
php_sign=(php -n -d "extension=$ext" -d "herald.secret_file=$etc/secret" -r 'echo Herald\channel("news"), "\n";')

want=$(daemon/heraldd sign news --config "$etc/heraldd.conf" 2>&1)
got=$("${as_www[@]}" "${php_sign[@]}" 2>&1)
if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "www_data_php_reads_the_secret_and_signs_as_heraldd"
else echo "heraldd: $want"; echo "php as www-data: $got"; not_ok "www_data_php_reads_the_secret_and_signs_as_heraldd"; fi

check "heraldd_as_herald_with_group_www_data_loads_the_config" \
  "${as_herald[@]}" daemon/heraldd --config "$etc/heraldd.conf" --check-config

if out=$("${as_nobody[@]}" cat "$etc/secret" 2>&1); then echo "$out"; not_ok "another_user_cannot_read_the_secret"
elif grep -q 'Permission denied' <<<"$out"; then ok "another_user_cannot_read_the_secret"
else echo "$out"; not_ok "another_user_cannot_read_the_secret"; fi

if out=$("${as_nobody[@]}" "${php_sign[@]}" 2>&1) || ! grep -qi 'permission denied\|cannot read\|not readable' <<<"$out"; then
  echo "$out"; not_ok "another_users_php_cannot_sign"
else ok "another_users_php_cannot_sign"; fi

# Without the unit's supplementary group heraldd could not start: the group is what lets it in.
if out=$("${as_herald_nogroup[@]}" daemon/heraldd --config "$etc/heraldd.conf" --check-config 2>&1); then
  echo "$out"; not_ok "heraldd_without_group_www_data_is_refused"
else ok "heraldd_without_group_www_data_is_refused"; fi

finish
