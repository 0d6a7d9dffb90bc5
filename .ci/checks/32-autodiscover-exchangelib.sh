#!/usr/bin/env bash
# Interop: Debian's python3-exchangelib runs its own SOAP Autodiscover
# (autodiscover="soap") against the standalone fake, with Basic and NTLM. The
# fake serves HTTPS for contoso.example, autodiscover.contoso.example and
# mail.contoso.example with a certificate from a fresh CA; the Python script
# routes those names to the fake's loopback port for this run only and trusts
# the CA. exchangelib must find the EWS URL the fake announces and use it.
set -euo pipefail
source "$(dirname "$0")/../lib/interop.sh" # $py (exchangelib), $tmp, $pid killed at exit

go build -o "$tmp/fakeexchange" ./examples/fakeexchange

svc='CONTOSO\svc-sync'
pw='Interop-Passw0rd'
for auth in basic ntlm; do
  "$tmp/fakeexchange" -auth "$auth" -service "$svc" -password "$pw" \
    -mailboxes alice@contoso.example,bob@contoso.example -autodiscover-ca "$tmp/ca.pem" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  addr=""
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/^Autodiscover: .* at \([0-9.:]*\) (CA in .*/\1/p' "$tmp/out")
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "fakeexchange did not print its Autodiscover address"; cat "$tmp/out" "$tmp/err"; exit 1; }
  timeout 300 "$py" scctest/interop/exchangelib_autodiscover.py "$addr" "$tmp/ca.pem" "$auth" "$svc" "$pw" \
    alice@contoso.example https://mail.contoso.example/EWS/Exchange.asmx
  kill -TERM "$pid"
  wait "$pid" || { echo "fakeexchange exited non-zero after SIGTERM"; cat "$tmp/err"; exit 1; }
  pid=""
done
echo "exchangelib SOAP Autodiscover interop passed (basic, ntlm)"
