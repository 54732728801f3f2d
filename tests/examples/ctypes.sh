#!/usr/bin/env bash
# examples/mesos_ctypes.py end to end: the library loaded by Python's
# ctypes, a master in the Python process, the mesos-agent daemon, one task
# launched through the C scheduler client with Python callbacks.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 99
O=${O:-build}
LIBOUT=${LIBOUT:-lib}
LIB="$ROOT/$LIBOUT/libmesos-core.so.1"
AGENT="$ROOT/$O/bin/mesos-agent"
command -v python3 > /dev/null || { echo "SKIPPED: no python3"; exit 77; }
[ -e "$LIB" ] || { echo "FAIL: $LIB not built"; exit 1; }
[ -x "$AGENT" ] || { echo "FAIL: $AGENT not built"; exit 1; }
if [ -n "${SAN:-}" ]; then
  # A sanitized library in an unsanitized python: the runtimes must be
  # loaded first.  Python's own allocations are not ours to leak-check.
  asan=$(${CC:-cc} -print-file-name=libasan.so)
  ubsan=$(${CC:-cc} -print-file-name=libubsan.so)
  export LD_PRELOAD="$asan $ubsan"
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
fi
out=$(timeout -k 5 90 python3 examples/mesos_ctypes.py --lib "$LIB" --agent "$AGENT" --timeout 60 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: mesos_ctypes.py exited with $rc"
  echo "$out" | tail -30
  exit 1
fi
for want in "resources: cpus(\*):3.5" "subscribed as framework" "launched py-task-1" \
            "task py-task-1 is TASK_RUNNING" "task py-task-1 is TASK_FINISHED" "task finished: done"; do
  if ! grep -q "$want" <<< "$out"; then
    echo "FAIL: '$want' missing from the output:"
    echo "$out" | tail -30
    exit 1
  fi
done
echo "ok: the ctypes example ran a task"
