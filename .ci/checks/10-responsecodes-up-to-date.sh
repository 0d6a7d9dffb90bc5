#!/usr/bin/env bash
# ews/responsecode_gen.go must be what the generator makes from the schema.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go run ./internal/gen/responsecodes -schema "$SCC_SHARED/ews-schema/messages.xsd" -out "$tmp/gen.go"
if ! diff -u ews/responsecode_gen.go "$tmp/gen.go"; then
  echo "ews/responsecode_gen.go is stale: run 'go generate ./ews' and commit" >&2
  exit 1
fi
echo "responsecode_gen.go matches messages.xsd"
