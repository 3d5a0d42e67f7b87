#!/usr/bin/env bash
# Regenerate ext/herald_arginfo.h from ext/herald.stub.php with PHP's own
# gen_stub.php. gen_stub.php wants nikic/PHP-Parser beside itself and would
# download it; we point it at Debian's package (php-parser) instead, in a
# temporary directory, so nothing is fetched and the PHP install is untouched.
# Usage: ext/gen-arginfo.sh [--check]   (--check: fail if the header is stale)
set -euo pipefail
cd "$(dirname "$0")"
build=$(php-config --extension-dir)/build
[ -f "$build/gen_stub.php" ] || build=$(php-config --prefix)/lib/php/build
[ -f "$build/gen_stub.php" ] || { echo "gen-arginfo: gen_stub.php not found (install php-dev)" >&2; exit 1; }
parser=/usr/share/php/PhpParser
[ -d "$parser" ] || { echo "gen-arginfo: PHP-Parser not found (apt-get install php-parser)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$build/gen_stub.php" "$tmp/"
ver=$(sed -n 's/.*\$version = "\([0-9.]*\)".*/\1/p' "$tmp/gen_stub.php" | head -1)
mkdir -p "$tmp/PHP-Parser-$ver/lib"
ln -s "$parser" "$tmp/PHP-Parser-$ver/lib/PhpParser"
cp herald.stub.php "$tmp/"
[ -f herald_arginfo.h ] && cp herald_arginfo.h "$tmp/"
php "$tmp/gen_stub.php" -f "$tmp/herald.stub.php" >/dev/null
if [ "${1:-}" = --check ]; then
  # the stub hash line differs only if the stub changed; compare the rest too
  if cmp -s "$tmp/herald_arginfo.h" herald_arginfo.h; then echo "arginfo up to date"; exit 0; fi
  echo "gen-arginfo: ext/herald_arginfo.h is stale: run ext/gen-arginfo.sh" >&2; exit 1
fi
cp "$tmp/herald_arginfo.h" herald_arginfo.h
echo "wrote ext/herald_arginfo.h"
