#!/bin/sh
# Print herald.js's served size: minified with terser (from tests/node_modules,
# installed by scripts/setup) then gzip -9. Usage: client/size.sh [classic|module]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kind=${1:-classic}
terser="$here/../tests/node_modules/.bin/terser"
[ -x "$terser" ] || { echo "$0: terser missing; run scripts/setup" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/build.sh" "$here/herald.js" "$tmp/h.js" "$kind"
m=""; [ "$kind" = module ] && m="--module"
"$terser" "$tmp/h.js" $m --compress --mangle --ecma 2020 -o "$tmp/h.min.js"
raw=$(wc -c <"$tmp/h.js")
min=$(wc -c <"$tmp/h.min.js")
gz=$(gzip -9 -c "$tmp/h.min.js" | wc -c)
echo "herald.js ($kind): $raw bytes source, $min minified, $gz minified+gzip -9"
