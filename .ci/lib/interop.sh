# Sourced by the interop checks in .ci/checks (not a check itself). It sets
#   py   a python3 that imports exchangelib (Debian's python3-exchangelib),
#   tmp  a temporary directory, removed at exit,
#   pid  empty; a check that starts a server in the background sets it, and
#        the server is killed and waited for at exit.

py=""
for c in python3 /usr/bin/python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import exchangelib' >/dev/null 2>&1; then py=$c; break; fi
done
[ -n "$py" ] || { echo "python3-exchangelib is not importable; run bash .ci/install.sh" >&2; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
