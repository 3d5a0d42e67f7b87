#!/usr/bin/env bash
# slow
# The Debian packages (debian/): build heraldd and php8.2-herald with
# dpkg-buildpackage from a copy of the tree (its outputs land in
# build/packages/), check them with lintian, install them with dpkg -i, check
# what postinst set up, run heraldd from the package the way its unit would
# with PHP (CLI and php-fpm) emitting through the packaged extension to a
# WebSocket client (tests/packages/smoke.mjs), then purge both and check
# that nothing of theirs is left. Needs root (dpkg). Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
top=$(pwd)
. tests/suites/lib/tap.sh
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
nok() { echo "not ok - $1"; FAIL=$((FAIL + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
stop_here() { nok "$1"; tap_finish; exit 1; }

if [ "$(id -u)" != 0 ]; then
  # as scripts/setup does: root, or sudo without a password
  sudo -n true 2>/dev/null && exec sudo -n -E HERALD_TOP="$top" bash "$0"
  stop_here "this suite installs packages: run it as root or with sudo (dpkg -i, dpkg --purge)"
fi
for c in dpkg-buildpackage lintian cgi-fcgi php-fpm8.2 runuser setpriv; do
  command -v $c >/dev/null || stop_here "$c missing (scripts/setup installs it)"
done
# The suite owns these while it runs; someone else's would be clobbered.
for p in heraldd php8.2-herald; do
  if dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q installed; then
    stop_here "$p is already installed here: remove it first (dpkg --purge $p), this suite installs and purges its own"
  fi
done
[ -e /run/herald ] && stop_here "/run/herald exists (another heraldd?): this suite runs the packaged heraldd there"
[ -e /etc/herald ] && stop_here "/etc/herald exists: this suite installs the package that owns it"
user_existed=0; id herald >/dev/null 2>&1 && user_existed=1

out=$top/build/packages
work=$(mktemp -d /tmp/herald-pkg.XXXXXX)
chmod 0755 "$work"
hd_pid="" fpm_pid="" installed=0
cleanup() {
  [ -n "$fpm_pid" ] && kill "$fpm_pid" 2>/dev/null && wait "$fpm_pid" 2>/dev/null
  [ -n "$hd_pid" ] && kill "$hd_pid" 2>/dev/null && wait "$hd_pid" 2>/dev/null
  if [ $installed = 1 ]; then dpkg --purge php8.2-herald heraldd >/dev/null 2>&1; fi
  rm -rf /run/herald "$work"
  if [ $user_existed = 0 ] && id herald >/dev/null 2>&1; then deluser --quiet --system herald >/dev/null 2>&1; fi
}
trap cleanup EXIT

# --- build: a copy of the tree (tracked and new files, nothing ignored), so
# dpkg-buildpackage's ../*.deb land in build/packages and the tree stays clean.
rm -rf "$out"; mkdir -p "$out/src"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$out/src"
t0=$(date +%s)
if (cd "$out/src" && DEB_BUILD_OPTIONS="noddebs parallel=2" dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
  ok "dpkg-buildpackage -b builds the packages ($(( $(date +%s) - t0 ))s)"
else
  tail -40 "$out/build.log"; stop_here "dpkg-buildpackage -b (full log: build/packages/build.log)"
fi
version=$(cat VERSION)
deb_d=$out/heraldd_${version}_$(dpkg --print-architecture).deb
deb_p=$out/php8.2-herald_${version}_$(dpkg --print-architecture).deb
check "heraldd_${version} and php8.2-herald_${version} are there (the version is VERSION's)" test -f "$deb_d" -a -f "$deb_p"

contents=$(dpkg-deb -c "$deb_d"; dpkg-deb -c "$deb_p")
for f in ./usr/bin/heraldd ./lib/systemd/system/heraldd.service ./etc/herald/heraldd.conf \
         ./usr/share/doc/heraldd/examples/heraldd.conf ./usr/share/man/man8/heraldd.8.gz \
         ./usr/lib/php/20220829/herald.so ./etc/php/8.2/mods-available/herald.ini; do
  check "a package ships $f" grep -q " $f\$" <<<"$contents"
done

# --- lintian: errors and warnings fail (info-level tags are shown, not counted).
lintian --info "$deb_d" "$deb_p" >"$out/lintian.log" 2>&1
cat "$out/lintian.log"
check "lintian: no error or warning" bash -c "! grep -E '^[EW]: ' '$out/lintian.log'"

# --- install: the README's line, simulated (apt resolves the packages'
# dependencies from this machine's sources), then dpkg -i for real.
check "apt takes the README's install line: apt install ./heraldd_*.deb ./php8.2-herald_*.deb (simulated)" \
  bash -c "cd '$out' && apt-get install --simulate -q ./heraldd_*.deb ./php8.2-herald_*.deb >'$out/apt.log' 2>&1 && grep -q '^Inst heraldd ' '$out/apt.log' && grep -q '^Inst php8.2-herald ' '$out/apt.log'"
if dpkg -i "$deb_d" "$deb_p"; then installed=1; ok "dpkg -i installs both"; else installed=1; stop_here "dpkg -i"; fi
check "the herald system user exists, without a login shell" \
  bash -c '[ "$(getent passwd herald | cut -d: -f7)" = /usr/sbin/nologin ] && [ "$(id -u herald)" -lt 1000 ]'
check "/etc/herald is 0750 root:www-data" test "$(stat -c '%a %U:%G' /etc/herald)" = "750 root:www-data"
check "/etc/herald/secret is 0640 root:www-data and holds a secret" \
  bash -c '[ "$(stat -c "%a %U:%G" /etc/herald/secret)" = "640 root:www-data" ] && [ "$(wc -c </etc/herald/secret)" -ge 40 ]'
check "www-data reads the secret" bash -c "runuser -u www-data -- cat /etc/herald/secret >/dev/null"
check "nobody cannot read the secret" bash -c '! runuser -u nobody -- cat /etc/herald/secret 2>/dev/null'
check "heraldd.conf is a conffile" grep -qx /etc/herald/heraldd.conf /var/lib/dpkg/info/heraldd.conffiles
check "heraldd --check-config accepts the packaged config" \
  setpriv --reuid=herald --regid=herald --groups=www-data /usr/bin/heraldd --check-config --config /etc/herald/heraldd.conf
for sapi in cli fpm; do
  check "phpenmod enabled herald for $sapi (conf.d/20-herald.ini)" \
    test "$(readlink -f /etc/php/8.2/$sapi/conf.d/20-herald.ini)" = /etc/php/8.2/mods-available/herald.ini
done
check "php -m (the system's php.ini) lists herald" bash -c 'php -m | grep -qx herald'
# An upgrade (here: the same version again) keeps the secret, the modes and
# the module enabled (dh_php's preinst disables it, postinst enables it).
sum=$(sha256sum /etc/herald/secret)
if dpkg -i "$deb_d" "$deb_p" >/dev/null; then ok "dpkg -i again (an upgrade's maintainer scripts)"; else nok "dpkg -i again (an upgrade's maintainer scripts)"; fi
check "after it: the same secret, /etc/herald still 0750 root:www-data, herald still enabled" \
  bash -c '[ "$(sha256sum /etc/herald/secret)" = "$0" ] && [ "$(stat -c "%a %U:%G" /etc/herald)" = "750 root:www-data" ] && php -m | grep -qx herald' "$sum"

# --- heraldd, as the unit starts it
unit=/lib/systemd/system/heraldd.service
if command -v systemd-analyze >/dev/null; then
  v=$(systemd-analyze verify "$unit" 2>&1)
  check "systemd-analyze verify $unit: no finding" test -z "$v"
  [ -n "$v" ] && echo "$v"
else
  echo "# systemd-analyze is not installed: the unit file is not verified"
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
check "the unit runs /usr/bin/heraldd with /etc/herald/heraldd.conf" test "$exec_start" = "/usr/bin/heraldd --config /etc/herald/heraldd.conf"
port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
# Ports 8080 and 26300 (the packaged defaults) may be taken on a shared
# machine: the public listener moves to a free port, the emit listener keeps
# only its Unix socket. Flags win over the file; everything else is packaged.
flags="--listen 127.0.0.1:$port --emit unix:/run/herald/emit.sock"
if [ -d /run/systemd/system ]; then
  echo "# systemd is running: systemctl start heraldd (drop-in: $flags)"
  mkdir -p /run/systemd/system/heraldd.service.d
  printf '[Service]\nExecStart=\nExecStart=%s %s\n' "$exec_start" "$flags" >/run/systemd/system/heraldd.service.d/test.conf
  systemctl daemon-reload
  check "systemctl start heraldd" systemctl start heraldd
  hd_pid=$(systemctl show -p MainPID --value heraldd)
else
  echo "# systemd is not running here (systemctl is-system-running: $(systemctl is-system-running 2>&1)," \
       "no /run/systemd/system): starting '$exec_start $flags' as the unit would:" \
       "User=herald Group=herald SupplementaryGroups=www-data UMask=0077, RuntimeDirectory=/run/herald (0711)"
  install -d -m 0711 -o herald -g herald /run/herald
  (umask 0077; exec setpriv --reuid=herald --regid=herald --groups=www-data --no-new-privs \
     $exec_start $flags) 2>"$work/heraldd.log" &
  hd_pid=$!
fi
ready=0
for _ in $(seq 1 500); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && [ -S /run/herald/emit.sock ]; then ready=1; break; fi
  kill -0 "$hd_pid" 2>/dev/null || break
  sleep 0.02
done
[ $ready = 1 ] || { cat "$work/heraldd.log" 2>/dev/null; stop_here "the packaged heraldd answers /healthz and made /run/herald/emit.sock"; }
ok "the packaged heraldd is up (pid $hd_pid, public 127.0.0.1:$port)"
check "the emit socket is group www-data, mode 0660" test "$(stat -c '%a %G' /run/herald/emit.sock)" = "660 www-data"

# --- php-fpm: a pool as www-data; php.ini and conf.d are the system's.
cat >"$work/php-fpm.conf" <<CONF
[global]
pid = $work/php-fpm.pid
error_log = $work/php-fpm.log
daemonize = no
[smoke]
user = www-data
group = www-data
listen = $work/php-fpm.sock
pm = static
pm.max_children = 1
CONF
printf '<?php echo "emitted ", Herald\\emit($_GET["channel"], "from php-fpm"), "\\n";\n' >"$work/emit.php"
chmod 0644 "$work/emit.php"
php-fpm8.2 -F -y "$work/php-fpm.conf" &
fpm_pid=$!
for _ in $(seq 1 250); do [ -S "$work/php-fpm.sock" ] && break; sleep 0.02; done
[ -S "$work/php-fpm.sock" ] || { cat "$work/php-fpm.log"; stop_here "php-fpm8.2 starts"; }

export PKG_PORT=$port PKG_FPM_SOCK=$work/php-fpm.sock PKG_FPM_SCRIPT=$work/emit.php
tap_run 'timeout 120 node --test --test-timeout=30000 --test-reporter=tap packages/smoke.mjs'

kill "$fpm_pid"; wait "$fpm_pid" 2>/dev/null; fpm_pid=""
if [ -d /run/systemd/system ]; then
  systemctl stop heraldd; rc=$(systemctl show -p ExecMainStatus --value heraldd)
  rm -rf /run/systemd/system/heraldd.service.d; systemctl daemon-reload
else
  kill "$hd_pid"; wait "$hd_pid" 2>/dev/null; rc=$?
fi
hd_pid=""
check "heraldd exits 0 on SIGTERM" test $rc = 0
if [ -f "$work/heraldd.log" ]; then
  sed 's/^/# heraldd: /' "$work/heraldd.log"
  check "heraldd logged no error or warning" bash -c "! grep -E ' heraldd (error|warn):' '$work/heraldd.log'"
fi
rm -rf /run/herald

# --- purge
if dpkg --purge php8.2-herald heraldd; then ok "dpkg --purge removes both"; else nok "dpkg --purge removes both"; fi
installed=0
check "nothing of theirs is left: /etc/herald, /usr/bin/heraldd, herald.so, the conf.d links" \
  bash -c '! ls -d /etc/herald /usr/bin/heraldd /usr/lib/php/20220829/herald.so /etc/php/8.2/*/conf.d/*herald* /etc/php/8.2/mods-available/herald.ini 2>/dev/null'
check "php -m no longer lists herald" bash -c '! php -m | grep -qx herald'
tap_finish
