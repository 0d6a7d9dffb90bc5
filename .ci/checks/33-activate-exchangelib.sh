#!/usr/bin/env bash
# Interop: examples/activate in real-server mode provisions the mailboxes of
# the standalone fake (go run ./examples/fakeexchange) over NTLM, a second
# run writes nothing, and exchangelib (an independent EWS client)
# impersonates each activated user and finds every planned folder exactly
# once with its class and the category in the master category list
# (exchangelib_activated.py). Then -deactivate -remove-provisioning removes
# them, and exchangelib sees them gone.
set -euo pipefail
source "$(dirname "$0")/../lib/interop.sh" # $py (exchangelib), $tmp, start_fake/await_line/stop_fake

go build -o "$tmp/fakeexchange" ./examples/fakeexchange
go build -o "$tmp/activate" ./examples/activate

svc='CONTOSO\svc-sync'
pw='Activate-Passw0rd'
users='alice@contoso.example,bob@contoso.example,dave@contoso.example'
start_fake -auth ntlm -service "$svc" -password "$pw" -mailboxes "$users"
url=$(await_line 's/^EWS endpoint: //p')

printf '"PrimarySmtpAddress"\n' >"$tmp/users.csv"
tr ',' '\n' <<<"$users" | sed 's/.*/"&"/' >>"$tmp/users.csv"
act() { SCC_PASSWORD="$pw" "$tmp/activate" -dir "$tmp/store" -store-key "$tmp/store.key" "$@"; }

act -ews-url "$url" -logon "$svc" -auth ntlm -insecure-http -users "$tmp/users.csv" -system CRM >"$tmp/first" 2>"$tmp/first.err" \
  || { echo "first activation failed"; cat "$tmp/first" "$tmp/first.err"; exit 1; }
cat "$tmp/first"
grep -q '^Activate: 3 activated' "$tmp/first" || { echo "first run did not activate 3 users"; exit 1; }
act >"$tmp/second" 2>&1 || { echo "second activation failed"; cat "$tmp/second"; exit 1; }
grep -q '^Activate: 3 requests, 0 writes$' "$tmp/second" || { echo "second run was not 1 request per user and no write:"; cat "$tmp/second"; exit 1; }
if grep -q -- "$pw" "$tmp/first" "$tmp/first.err" "$tmp/second" "$tmp/store"/* 2>/dev/null; then
  echo "the password appears in the output or the store in clear"; exit 1
fi

"$py" scctest/interop/exchangelib_activated.py "$url" ntlm "$svc" "$pw" CRM "$users"

act -deactivate -remove-provisioning >"$tmp/undo" 2>&1 || { echo "deactivation failed"; cat "$tmp/undo"; exit 1; }
grep -q '^Deactivate: 3 deactivated, 3 removed' "$tmp/undo" || { echo "deactivation did not remove 3 users' provisioning:"; cat "$tmp/undo"; exit 1; }
"$py" scctest/interop/exchangelib_activated.py --removed "$url" ntlm "$svc" "$pw" CRM "$users"
stop_fake
echo "activation interop: ok"
