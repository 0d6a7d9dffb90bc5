#!/usr/bin/env bash
# Interop: Debian's python3-exchangelib runs its own SOAP Autodiscover
# (autodiscover="soap") against the standalone fake, with Basic and NTLM. The
# fake serves HTTPS for contoso.example, autodiscover.contoso.example and
# mail.contoso.example with a certificate from a fresh CA; the Python script
# routes those names to the fake's loopback port for this run only and trusts
# the CA. exchangelib must find the EWS URL the fake announces and use it.
set -euo pipefail
source "$(dirname "$0")/../lib/interop.sh" # $py (exchangelib), $tmp, start_fake/await_line/stop_fake

go build -o "$tmp/fakeexchange" ./examples/fakeexchange

svc='CONTOSO\svc-sync'
pw='Interop-Passw0rd'
for auth in basic ntlm; do
  start_fake -auth "$auth" -service "$svc" -password "$pw" \
    -mailboxes alice@contoso.example,bob@contoso.example -autodiscover-ca "$tmp/ca.pem"
  addr=$(await_line 's/^Autodiscover: .* at \([0-9.:]*\) (CA in .*/\1/p')
  timeout 300 "$py" scctest/interop/exchangelib_autodiscover.py "$addr" "$tmp/ca.pem" "$auth" "$svc" "$pw" \
    alice@contoso.example https://mail.contoso.example/EWS/Exchange.asmx
  stop_fake
done
echo "exchangelib SOAP Autodiscover interop passed (basic, ntlm)"
