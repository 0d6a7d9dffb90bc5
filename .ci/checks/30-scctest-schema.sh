#!/usr/bin/env bash
# Every SOAP response the scctest fake sends must validate against
# Microsoft's EWS schema. The scctest tests cover every operation and every
# error the fake produces; with -capture they write each response body they
# receive into a directory, which ews-validate then checks file by file.
set -euo pipefail
: "${SCC_SHARED:=$(cd .. && pwd)/shared}"
validate="$SCC_SHARED/tools/ews-validate"
[ -x "$validate" ] || { echo "missing $validate (set SCC_SHARED)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go test ./scctest -count=1 -capture "$tmp/responses" >/dev/null
shopt -s nullglob
files=("$tmp"/responses/*.xml)
if [ ${#files[@]} -lt 40 ]; then
  echo "only ${#files[@]} responses captured; expected the full catalogue (>= 40)" >&2
  exit 1
fi
# Which operations and faults the captured set covers, for the log.
ops=$(grep -oh '<m:[A-Za-z]*Response ' "${files[@]}" | sed 's/^<m://; s/Response $//' | sort -u | tr '\n' ' ')
faults=$(grep -oh '>a:[A-Za-z]*<' "${files[@]}" | sort -u | tr -d '<>' | sed 's/^a://' | tr '\n' ' ')
echo "captured ${#files[@]} responses; operations: $ops"
echo "faults: $faults"
if ! out=$("$validate" -q "${files[@]}" 2>&1); then
  echo "$out" | grep -v ': OK$'
  exit 1
fi
echo "all ${#files[@]} scctest responses validate against the EWS schema"
