#!/usr/bin/env bash
# `make demo` (scripts/demo.sh) end to end, on the built daemons:
#  1. a plain run exits 0 with its one-line summary, printed the master's
#     URL, and leaves no daemon and no work directory behind;
#  2. KEEP=1 keeps the cluster up (its master answers) until Ctrl-C, then
#     stops it and exits 0;
#  3. Ctrl-C while the framework runs stops everything and exits 130.
# Ctrl-C is SIGINT to the demo's whole process group, as a terminal sends
# it.  Each run gets its own free port.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 99
O=${O:-build}
export O
command -v python3 > /dev/null || { echo "SKIPPED: no python3"; exit 77; }
command -v curl > /dev/null || { echo "SKIPPED: no curl"; exit 77; }
command -v setsid > /dev/null || { echo "SKIPPED: no setsid"; exit 77; }
for b in "$O/bin/mesos-master" "$O/bin/mesos-agent" "$O/examples/launch_n_tasks"; do
  [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
done
if [ -n "${SAN:-}" ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
fi

tmp=$(mktemp -d /tmp/mesos-demo-test-XXXXXX)
demo_pid=
cleanup() {
  if [ -n "$demo_pid" ]; then
    kill -KILL -- "-$demo_pid" 2> /dev/null || true
    wait "$demo_pid" 2> /dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The work directory and daemon pids a demo run named in its output.
work_of() { sed -n 's/.*work dirs in \(\/tmp\/mesos-demo-[A-Za-z0-9]*\).*/\1/p' "$1" | head -1; }
pids_of() { sed -n 's/.*(pid \([0-9]*\)), agent pid \([0-9]*\).*/\1 \2/p' "$1" | head -1; }

# Everything the run started is gone: its daemons and its directory.
check_gone() {
  local out=$1 what=$2 work pids p
  work=$(work_of "$out")
  pids=$(pids_of "$out")
  [ -n "$work" ] && [ -n "$pids" ] || { echo "FAIL ($what): no work dir or pids in:"; cat "$out"; exit 1; }
  for p in $pids; do
    if [ -d "/proc/$p" ] && ! grep -q "^State:.*Z" "/proc/$p/status" 2> /dev/null; then
      echo "FAIL ($what): daemon $p still runs"; exit 1
    fi
  done
  [ ! -e "$work" ] || { echo "FAIL ($what): $work was left behind"; exit 1; }
}

# Runs the demo in its own session (its process group id is its pid),
# with SIGINT at its default: a command started with & by a script ignores
# it, and a shell cannot trap a signal ignored when it started (a demo
# typed at a terminal gets it).
start_demo() {
  setsid env DEMO_PORT="$1" DEMO_TASKS=3 KEEP="$2" python3 -c \
    'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
    scripts/demo.sh > "$3" 2>&1 &
  demo_pid=$!
}

# Waits (at most $1 s) for the demo to end; its exit status in $rc.
end_demo() {
  timeout "$1" tail --pid="$demo_pid" -f /dev/null
  wait "$demo_pid"
  rc=$?
  demo_pid=
}

wait_for_line() {
  local file=$1 want=$2 i
  for i in $(seq 600); do
    grep -q "$want" "$file" && return 0
    kill -0 "$demo_pid" 2> /dev/null || break
    sleep 0.1
  done
  grep -q "$want" "$file"
}

# 1. A plain run.
port=$(free_port)
start_demo "$port" "" "$tmp/plain.out"
end_demo 120
[ $rc -eq 0 ] || { echo "FAIL: the demo exited $rc:"; cat "$tmp/plain.out"; exit 1; }
grep -q "demo: master at http://127.0.0.1:$port" "$tmp/plain.out" ||
  { echo "FAIL: no master URL:"; cat "$tmp/plain.out"; exit 1; }
grep -q "demo: OK: 3 tasks launched" "$tmp/plain.out" ||
  { echo "FAIL: no summary line:"; cat "$tmp/plain.out"; exit 1; }
check_gone "$tmp/plain.out" plain

# 2. KEEP=1, then Ctrl-C.
port=$(free_port)
start_demo "$port" 1 "$tmp/keep.out"
wait_for_line "$tmp/keep.out" "the cluster stays up" ||
  { echo "FAIL: KEEP=1 never said the cluster stays up:"; cat "$tmp/keep.out"; exit 1; }
curl -sf "http://127.0.0.1:$port/health" > /dev/null ||
  { echo "FAIL: the kept master does not answer"; exit 1; }
kill -INT -- "-$demo_pid"
end_demo 60
[ $rc -eq 0 ] || { echo "FAIL: KEEP=1 + Ctrl-C exited $rc:"; cat "$tmp/keep.out"; exit 1; }
check_gone "$tmp/keep.out" keep

# 3. Ctrl-C while the framework runs.
port=$(free_port)
start_demo "$port" "" "$tmp/int.out"
wait_for_line "$tmp/int.out" "running examples/launch_n_tasks" ||
  { echo "FAIL: the demo never started its framework:"; cat "$tmp/int.out"; exit 1; }
kill -INT -- "-$demo_pid"
end_demo 60
[ $rc -eq 130 ] || { echo "FAIL: Ctrl-C during the run exited $rc (want 130):"; cat "$tmp/int.out"; exit 1; }
check_gone "$tmp/int.out" interrupted
echo "ok: make demo runs, keeps the cluster with KEEP=1 and stops cleanly on Ctrl-C"
