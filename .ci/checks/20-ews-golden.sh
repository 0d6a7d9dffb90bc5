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
done < <(find ews/testdata -type f -name '*.xml' -print0 | sort -z)
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
