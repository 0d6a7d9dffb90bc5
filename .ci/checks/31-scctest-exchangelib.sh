#!/usr/bin/env bash
# Interop: Debian's python3-exchangelib (an independent EWS client) against
# the standalone fake (go run ./examples/fakeexchange), with Basic and NTLM:
# version guessing, impersonated GetFolder/FindItem/CreateItem/DeleteItem,
# a message, calendar item, contact and task with categories, importance,
# sensitivity and an extended property created, read back and compared,
# found by the extended property, updated, moved, copied; a folder created,
# renamed, moved and deleted; a recurring series expanded by calendar.view(),
# one occurrence changed into an exception and another deleted (OccurrenceItemId); ErrorImpersonateUserDenied outside the scope, UnauthorizedError for a wrong
# password, and a clean shutdown on SIGTERM. Push notifications reach a
# stdlib http.server callback and are parsed and answered with exchangelib's
# SendNotification (exchangelib_push.py). Then a non-Go client drives the
# running fake through its control API (stdlib urllib, control_check.py):
# password change, new mailbox, targeted fault, request log.
set -euo pipefail
: "${SCC_SHARED:=$(cd .. && pwd)/shared}"
schema="$SCC_SHARED/ews-schema"
[ -f "$schema/types.xsd" ] || { echo "missing $schema (set SCC_SHARED)" >&2; exit 1; }
source "$(dirname "$0")/../lib/interop.sh" # $py (exchangelib), $tmp, start_fake/await_line/stop_fake
echo "exchangelib $("$py" -c 'import exchangelib; print(exchangelib.__version__)') via $py"

go build -o "$tmp/fakeexchange" ./examples/fakeexchange

svc='CONTOSO\svc-sync'
pw='Interop-Passw0rd'
allowed='alice@contoso.example,bob@contoso.example'
denied='carol@contoso.example'
for auth in basic ntlm; do
  start_fake -auth "$auth" -service "$svc" -password "$pw" \
    -mailboxes "$allowed,$denied" -deny "$denied" -control 127.0.0.1:0 -schema-dir "$schema"
  url=$(await_line 's/^EWS endpoint: //p')
  ctl=$(await_line 's/^control API: //p')
  if [ "$auth" = basic ]; then
    # The schema is served beside Exchange.asmx, byte for byte, to an
    # authenticated client (scctest.WithSchemaDir).
    "$py" - "$url" "$svc" "$pw" "$schema" <<'PY'
import base64, sys, urllib.request
url, user, pw, schema = sys.argv[1:]
for name, local in (("Services.wsdl", "services.wsdl"), ("messages.xsd", "messages.xsd"), ("types.xsd", "types.xsd")):
    req = urllib.request.Request(url.rsplit("/", 1)[0] + "/" + name)
    req.add_header("Authorization", "Basic " + base64.b64encode((user + ":" + pw).encode()).decode())
    got = urllib.request.urlopen(req, timeout=30).read()
    want = open(schema + "/" + local, "rb").read()
    assert got == want, "GET %s: %d bytes, want %d" % (name, len(got), len(want))
print("schema files served under /EWS/")
PY
  fi
  timeout 300 "$py" scctest/interop/exchangelib_check.py "$url" "$auth" "$svc" "$pw" "$allowed" "$denied"
  timeout 300 "$py" scctest/interop/exchangelib_push.py "$url" "$auth" "$svc" "$pw" "${allowed%%,*}"
  timeout 300 "$py" scctest/interop/control_check.py "$url" "$ctl" "$auth" "$svc" "$pw" "${allowed%%,*}"
  stop_fake
done
echo "exchangelib interop and control API passed (basic, ntlm)"
