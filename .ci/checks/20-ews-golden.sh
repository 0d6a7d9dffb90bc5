#!/usr/bin/env bash
# Every SOAP envelope under ews/testdata (golden requests the client sends,
# captured-shape responses the parser is tested on) must pass Microsoft's EWS
# schema and services.wsdl header rules. Regenerate requests with
# 'go test ./ews -update'.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="${SCC_SHARED:-$(cd .. && pwd)/shared}"
validate="$shared/tools/ews-validate"
if [ ! -x "$validate" ]; then
  echo "20-ews-golden: $validate not found; set SCC_SHARED to the shared directory" >&2
  exit 1
fi
files=()
while IFS= read -r -d '' f; do
  # Only SOAP 1.1 envelopes; other XML (if any) is not an EWS message.
  if grep -q 'http://schemas.xmlsoap.org/soap/envelope/' "$f" && grep -Eq '<([A-Za-z_][A-Za-z0-9_.-]*:)?Envelope[ >]' "$f"; then
    files+=("$f")
  fi
done < <(find ews/testdata -type f -name '*.xml' -not -path 'ews/testdata/push/*' -print0 | sort -z)
if [ ${#files[@]} -eq 0 ]; then
  echo "20-ews-golden: no SOAP envelopes found under ews/testdata" >&2
  exit 1
fi
"$validate" -q "${files[@]}" >"${TMPDIR:-/tmp}/ews-golden.$$" 2>&1 || {
  grep -v ': OK$' "${TMPDIR:-/tmp}/ews-golden.$$" >&2
  rm -f "${TMPDIR:-/tmp}/ews-golden.$$"
  echo "20-ews-golden: some envelopes under ews/testdata are invalid" >&2
  exit 1
}
rm -f "${TMPDIR:-/tmp}/ews-golden.$$"
echo "20-ews-golden: ${#files[@]} envelopes valid"

# Push notifications (ews/testdata/push) are the server-to-client callback:
# m:SendNotification and m:SendNotificationResult are in messages.xsd but in
# no operation of services.wsdl (Exchange's NotificationService WSDL is
# separate). They must pass the XSD; the one WSDL complaint about their body
# element is expected, any other error fails.
push=()
while IFS= read -r -d '' f; do push+=("$f"); done < <(find ews/testdata/push -type f -name '*.xml' -print0 2>/dev/null | sort -z)
if [ ${#push[@]} -gt 0 ]; then
  out=$("$validate" "${push[@]}" 2>&1 || true)
  bad=$(printf '%s\n' "$out" | grep -E '^      ' | grep -Ev '^      services\.wsdl: no operation uses m:SendNotification(Result)? as its body$' || true)
  if [ -n "$bad" ] || ! printf '%s\n' "$out" | grep -q 'SendNotification'; then
    printf '%s\n' "$out" >&2
    echo "20-ews-golden: some push envelopes under ews/testdata/push are invalid" >&2
    exit 1
  fi
  echo "20-ews-golden: ${#push[@]} push envelopes valid (XSD; no services.wsdl operation, as expected)"
fi
