#!/bin/sh
# Build herald.js for serving: client/build.sh IN OUT classic|module
#   classic  wraps the source in a function and sets window.Herald
#   module   ends it with "export default Herald; export { Herald };"
# Only sh and sed, so heraldd's build needs no node. See client/README.md.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 IN OUT classic|module" >&2; exit 2; }
in=$1 out=$2 kind=$3
grep -q '^/\*@herald:head\*/$' "$in" && grep -q '^/\*@herald:tail\*/$' "$in" ||
  { echo "$0: $in lacks the /*@herald:head*/ and /*@herald:tail*/ marker lines" >&2; exit 1; }
case $kind in
  classic) head='(function () { "use strict";'
           tail='globalThis.Herald = Herald; })();' ;;
  module)  head=''
           tail='export default Herald; export { Herald };' ;;
  *) echo "$0: kind must be classic or module, not '$kind'" >&2; exit 2 ;;
esac
sed -e "s|^/\*@herald:head\*/\$|$head|" -e "s|^/\*@herald:tail\*/\$|$tail|" "$in" >"$out.tmp"
mv "$out.tmp" "$out"
