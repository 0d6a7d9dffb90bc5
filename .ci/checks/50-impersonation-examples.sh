#!/usr/bin/env bash
# The README's main job end to end: examples/checkaccess -demo (table, JSON
# and CSV), examples/activate -demo, examples/watch -demo, and a short
# benchmark run. Asserts the
# demo's statuses, that reports never contain the service account's
# password, and that every output parses.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/checkaccess" ./examples/checkaccess
go build -o "$tmp/activate" ./examples/activate
go build -o "$tmp/watch" ./examples/watch
password='Demo-Passw0rd!' # the demo service account's password (examples/internal/demo)

fail() { echo "50-impersonation: $*" >&2; exit 1; }

"$tmp/checkaccess" -demo >"$tmp/table" 2>"$tmp/progress" || fail "checkaccess -demo exited $?"
grep -q '^out-of-scope ' "$tmp/table" || fail "no out-of-scope row in the demo table"
grep -q '^no-mailbox ' "$tmp/table" || fail "no no-mailbox row in the demo table"
grep -q '^ok ' "$tmp/table" || fail "no ok row in the demo table"
grep -q 'Checked 41 of 41 users' "$tmp/table" || fail "summary line missing"
grep -q 'What to do:' "$tmp/table" || fail "remediation section missing"
grep -q '41/41 users' "$tmp/progress" || fail "progress did not reach 41/41 on stderr"

"$tmp/checkaccess" -demo -json >"$tmp/report.json" 2>/dev/null || fail "checkaccess -demo -json failed"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["total"] == 41 == len(r["results"]), r["total"]
assert sum(r["counts"].values()) == 41, r["counts"]
assert r["counts"]["ok"] == 36 and r["counts"]["out-of-scope"] == 3 and r["counts"]["no-mailbox"] == 2, r["counts"]
assert all(x["status"] != "ok" or not x.get("remediation") for x in r["results"])
assert all(x["status"] == "ok" or x.get("remediation") for x in r["results"])
PY
"$tmp/checkaccess" -demo -csv >"$tmp/report.csv" 2>/dev/null || fail "checkaccess -demo -csv failed"
python3 -c 'import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); assert len(rows)==41, len(rows)' "$tmp/report.csv"

"$tmp/activate" -demo >"$tmp/activate.out" 2>/dev/null || fail "activate -demo failed"
grep -q 'Activate: 10 activated, 0 renewed, 3 failed' "$tmp/activate.out" || fail "unexpected activation counts: $(grep Activate: "$tmp/activate.out")"
grep -q 'Activate again: 0 activated, 0 renewed, 0 failed, 0 need renewal, 13 unchanged' "$tmp/activate.out" || fail "activation is not idempotent"
grep -q 'Renew: 0 activated, 10 renewed' "$tmp/activate.out" || fail "renew did not renew the active users"

"$tmp/checkaccess" -demo -users 500 -latency 1ms -concurrency 27 >"$tmp/bench" 2>&1 || fail "benchmark mode failed"
grep -q 'results      map\[ok:500\]' "$tmp/bench" || fail "benchmark: $(cat "$tmp/bench")"

"$tmp/watch" -demo -users 10 -rate 20 -changes 20 -duration 60s >"$tmp/watch.out" 2>&1 || fail "watch -demo failed: $(tail -5 "$tmp/watch.out")"
[ "$(grep -cE '^[0-9:.]+ Create +[^ ]+@contoso.example inbox item ' "$tmp/watch.out")" = 20 ] || fail "watch -demo did not print 20 changes"
grep -q '^20 changes in ' "$tmp/watch.out" || fail "watch -demo summary missing"

for f in table progress report.json report.csv activate.out bench watch.out; do
  if grep -qF "$password" "$tmp/$f"; then fail "$f contains the service account's password"; fi
done
echo "impersonation examples: ok"
