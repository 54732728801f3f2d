#!/usr/bin/env bash
# `make demo`: a local cluster on this machine.
#
# Today that is a master on 127.0.0.1:5050 (the agent daemon is not written
# yet, so frameworks subscribe and get no offers).  The script shows a real
# scheduler subscription with curl, then keeps the master in the foreground
# until Ctrl-C.  When mesos-agent exists it starts here too and the example
# framework (examples/launch_n_tasks) runs tasks on it.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
PORT=${DEMO_PORT:-5050}
MASTER="$O/bin/mesos-master"
[ -x "$MASTER" ] || { echo "demo: $MASTER is missing; run make first"; exit 1; }

work=$(mktemp -d /tmp/mesos-demo-XXXXXX)
cleanup() {
  [ -n "${mpid:-}" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$MASTER" --ip=127.0.0.1 --port="$PORT" --work_dir="$work/master" &
mpid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  sleep 0.1
done
echo
echo "demo: master running at http://127.0.0.1:$PORT (pid $mpid)"
echo "demo: /version says: $(curl -s "http://127.0.0.1:$PORT/version")"
echo "demo: subscribing a framework with curl (first two events of the stream):"
curl -sN --max-time 3 -H 'Content-Type: application/json' \
  -d '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"nobody","name":"demo"}}}' \
  "http://127.0.0.1:$PORT/api/v1/scheduler" | head -c 600 || true
echo
echo
echo "demo: no agent yet (mesos-agent is the next milestone), so no offers."
if [ -t 0 ]; then
  echo "demo: master stays up; press Ctrl-C to stop."
  wait "$mpid"
fi
