# Sourced by the interop checks in .ci/checks (not a check itself). It sets
#   py   a python3 that imports exchangelib (Debian's python3-exchangelib),
#   tmp  a temporary directory, removed at exit,
#   pid  the fake started by start_fake, stopped (and if need be killed) at
#        exit,
# and defines start_fake, await_line and stop_fake. No step waits without a
# bound: a fake that does not start, print or stop fails the check with its
# output instead of hanging CI.

py=""
for c in python3 /usr/bin/python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import exchangelib' >/dev/null 2>&1; then py=$c; break; fi
done
[ -n "$py" ] || { echo "python3-exchangelib is not importable; run bash .ci/install.sh" >&2; exit 1; }

tmp=$(mktemp -d)
pid=""

# start_fake ARGS...: $tmp/fakeexchange ARGS in the background, stdout in
# $tmp/out and stderr in $tmp/err (both exist before it starts, so a reader
# never races the redirection), its process id in pid.
start_fake() {
  : >"$tmp/out"
  : >"$tmp/err"
  "$tmp/fakeexchange" "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
}

# await_line SED: prints what the sed expression SED (with -n) prints from
# $tmp/out once it prints something; fails after 60 s or once the fake has
# exited without printing it.
await_line() {
  local got
  for _ in $(seq 1 600); do
    got=$(sed -n "$1" "$tmp/out")
    if [ -n "$got" ]; then printf '%s\n' "$got"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "fakeexchange did not print the line '$1' looks for; its stdout and stderr:" >&2
  cat "$tmp/out" "$tmp/err" >&2
  return 1
}

# reap SECONDS: waits for the fake at most SECONDS, then kills it with
# SIGKILL; sets status to its exit status (137 when killed) and clears pid.
# It polls rather than trusting a signal: CI may start us with SIGTERM
# ignored, which a background job inherits.
reap() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  wait "$pid" 2>/dev/null || status=$?
  pid=""
}

# stop_fake: SIGTERM, and the fake must exit with status 0 within 30 s.
stop_fake() {
  kill -TERM "$pid"
  reap 30
  if [ "$status" -ne 0 ]; then
    echo "fakeexchange exited with status $status after SIGTERM, want 0 (137: killed after 30 s)"; cat "$tmp/err"; return 1
  fi
}

cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; reap 10; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
