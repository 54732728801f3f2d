#!/usr/bin/env bash
# `make demo`: a local cluster on this machine, used by a real framework.
#
# Starts a master and an agent on 127.0.0.1 with their work directories in
# a temporary folder, runs examples/launch_n_tasks (which launches a batch
# of tasks and prints their progress), prints a one-line summary and stops
# everything.  `make demo KEEP=1` leaves the cluster running until Ctrl-C
# so you can look around (curl the master, read the sandboxes).
#
# Environment: O (build directory, default build), DEMO_PORT (master port,
# default 5050, or a free one when that is taken), DEMO_TASKS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
KEEP=${KEEP:-}
TASKS=${DEMO_TASKS:-10}
MASTER="$O/bin/mesos-master"
AGENT="$O/bin/mesos-agent"
FRAMEWORK="$O/examples/launch_n_tasks"
for b in "$MASTER" "$AGENT" "$FRAMEWORK"; do
  [ -x "$b" ] || { echo "demo: $b is missing; run make first"; exit 1; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${DEMO_PORT:-5050}
if curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then
  PORT=$(free_port)
fi

work=$(mktemp -d /tmp/mesos-demo-XXXXXX)
mpid=
apid=
fpid=
cleanup() {
  trap - EXIT INT TERM
  for p in $fpid $apid $mpid; do
    kill "$p" 2>/dev/null || true
  done
  for p in $fpid $apid $mpid; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# Ctrl-C ends a KEEP=1 session normally (exit status of the framework run);
# anywhere else it is an interruption (130).
keeping=
rc=130
trap 'echo; echo "demo: stopping the cluster"; [ -n "$keeping" ] && exit "$rc"; exit 130' INT TERM

"$MASTER" --ip=127.0.0.1 --port="$PORT" --work_dir="$work/master" \
  --allocation_interval=100ms 2> "$work/master.log" &
mpid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 ||
  { echo "demo: the master did not start:"; cat "$work/master.log"; exit 1; }

"$AGENT" --master="127.0.0.1:$PORT" --ip=127.0.0.1 --port=0 --hostname=demo-agent \
  --work_dir="$work/agent" --resources="cpus:4;mem:2048;disk:4096;ports:[31000-32000]" \
  --registration_backoff_factor=100ms 2> "$work/agent.log" &
apid=$!
for _ in $(seq 50); do
  grep -q "Registered with the master" "$work/agent.log" 2> /dev/null && break
  sleep 0.1
done
grep -q "Registered with the master" "$work/agent.log" ||
  { echo "demo: the agent did not register:"; cat "$work/agent.log"; exit 1; }

echo "demo: master at http://127.0.0.1:$PORT (pid $mpid), agent pid $apid, work dirs in $work"
echo "demo: running examples/launch_n_tasks with $TASKS tasks"
start=$(date +%s.%N)
set +e
"$FRAMEWORK" --master="http://127.0.0.1:$PORT" --tasks="$TASKS" \
  --command='echo "hello from $MESOS_TASK_ID"; sleep 0.2' --cpus=0.1 --mem=16 --timeout=60 &
fpid=$!
wait "$fpid"
rc=$?
fpid=
set -e
secs=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
finished=$(grep -c "TASK_FINISHED" "$work/agent.log" || true)
if [ "$rc" -eq 0 ]; then
  echo "demo: OK: $TASKS tasks launched through http://127.0.0.1:$PORT finished on agent demo-agent in ${secs}s ($finished TASK_FINISHED updates)"
else
  echo "demo: FAILED: launch_n_tasks exited with $rc after ${secs}s; agent log:"
  tail -20 "$work/agent.log"
fi
if [ -n "$KEEP" ]; then
  echo "demo: KEEP=1: the cluster stays up at http://127.0.0.1:$PORT; press Ctrl-C to stop it"
  echo "demo: sandboxes are under $work/agent/slaves"
  keeping=1
  wait "$mpid" || true
fi
exit "$rc"
