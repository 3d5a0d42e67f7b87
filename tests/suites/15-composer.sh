#!/usr/bin/env bash
# composer.json as PIE reads it, and the license. Debian 12's Composer 2.5
# rejects the php-ext block (newer Composer accepts it), so: composer
# validate --strict on the file without that block, and tests/composer/
# check.php for the block (against PIE's documented schema), the build it
# describes (config.m4) and the license. Each broken variant below must be
# refused, so the checker is shown able to fail. Ends with "N passed, N failed".
set -uo pipefail
cd "${HERALD_TOP:-$(dirname "$0")/../..}"
top=$(pwd)
PASS=0 FAIL=0
ok()     { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }
tmp=$(mktemp -d -t herald-composer.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# composer.json with one change applied by a PHP expression on $j (an array).
variant() {
  php -r '$j = json_decode(file_get_contents($argv[1]), true); '"$1"'; echo json_encode($j, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";' "$top/composer.json"
}

mkdir "$tmp/plain"
variant 'unset($j["php-ext"])' >"$tmp/plain/composer.json"
if out=$(cd "$tmp/plain" && composer validate --strict --no-check-publish --no-interaction 2>&1); then
  ok "composer_validate_strict_accepts_everything_but_php_ext"
else echo "$out"; not_ok "composer_validate_strict_accepts_everything_but_php_ext"; fi

if out=$(php tests/composer/check.php composer.json "$top" 2>&1); then
  ok "php_ext_block_matches_pie_schema_config_m4_and_license"
else echo "$out"; not_ok "php_ext_block_matches_pie_schema_config_m4_and_license"; fi

# name|change|what the refusal must say
while IFS='|' read -r name change expect; do
  variant "$change" >"$tmp/composer.json"
  out=$(php tests/composer/check.php "$tmp/composer.json" "$top" 2>&1); rc=$?
  if [ $rc = 1 ] && grep -q -- "$expect" <<<"$out"; then ok "refuses_$name"
  else echo "exit $rc: $out"; not_ok "refuses_$name (expected: $expect)"; fi
done <<'EOF_CASES'
missing_license|unset($j["license"])|license is null
other_license|$j["license"] = "GPL-3.0-only"|expected "MIT"
library_type|$j["type"] = "library"|PIE needs "php-ext"
hyphenated_extension_name|$j["php-ext"]["extension-name"] = "my-herald"|php-ext.extension-name
unknown_php_ext_key|$j["php-ext"]["build-dir"] = "ext"|build-dir
string_priority|$j["php-ext"]["priority"] = "80"|php-ext.priority
option_without_description|unset($j["php-ext"]["configure-options"][0]["description"])|description
option_config_m4_lacks|$j["php-ext"]["configure-options"][] = ["name" => "with-libfoo", "description" => "x", "needs-value" => true]|--with-libfoo is not offered
extension_config_m4_does_not_build|$j["php-ext"]["extension-name"] = "heraldx"|config.m4 builds 'herald'
EOF_CASES

echo "${PASS} passed, ${FAIL} failed"
[ "$FAIL" = 0 ]
