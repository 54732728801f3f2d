#!/usr/bin/env bash
# The container benchmark works: `bench_container --quick` runs 5 launches
# per variant and 10 launch+destroy, prints one well-formed line each,
#   bench: <name> <value> <unit> baseline <name> <value> <unit> ratio <r>
# and leaves no cgroup, mount or temporary directory behind (the numbers
# are only meaningful at full size, `make bench`).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 99
O=${O:-build}
bin=$O/bench/bench_container
if [ ! -x "$bin" ]; then
  echo "FAIL: $bin does not exist (build it: make O=$O)"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then echo "SKIPPED: needs root (namespaces, cgroups)"; exit 77; fi
if [ ! -x /usr/bin/busybox ] && [ ! -x /bin/busybox ]; then
  echo "SKIPPED: needs busybox-static"; exit 77
fi
before=$(ls -d /tmp/bench-container-* 2>/dev/null | wc -l)
run_before=$(ls -d /run/mesos-bench-run-* 2>/dev/null | wc -l)
out=$(timeout 240 "$bin" --quick 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
  echo "FAIL: $bin --quick exited with $rc"
  exit 1
fi
num='[0-9]+(\.[0-9]+)?'
fail=0
for name in container-launch container-launch-unshare container-10-launch-destroy; do
  n=$(echo "$out" | grep -cE "^bench: $name $num (ms|s) baseline [a-z0-9+-]+ $num (ms|s) ratio $num$")
  if [ "$n" -ne 1 ]; then
    echo "FAIL: expected one well-formed 'bench: $name ...' line, found $n"
    fail=1
  fi
done
if echo "$out" | grep -vE '^(bench: |# )' | grep -q .; then
  echo "FAIL: unexpected output lines:"
  echo "$out" | grep -vE '^(bench: |# )'
  fail=1
fi
if grep -q mesos-bench- /proc/self/mountinfo; then echo "FAIL: a mount is left"; fail=1; fi
if ls -d /sys/fs/cgroup/*/mesos-bench-* /sys/fs/cgroup/*/*/*/mesos-bench-* 2>/dev/null | grep -q .; then
  echo "FAIL: a cgroup is left:"; ls -d /sys/fs/cgroup/*/mesos-bench-* /sys/fs/cgroup/*/*/*/mesos-bench-* 2>/dev/null
  fail=1
fi
after=$(ls -d /tmp/bench-container-* 2>/dev/null | wc -l)
run_after=$(ls -d /run/mesos-bench-run-* 2>/dev/null | wc -l)
if [ "$run_after" -gt "$run_before" ]; then echo "FAIL: a runtime directory under /run is left"; fail=1; fi
if [ "$after" -gt "$before" ]; then echo "FAIL: a temporary directory is left"; fail=1; fi
if "$bin" --no-such-flag > /dev/null 2>&1; then
  echo "FAIL: $bin accepted an unknown argument"
  fail=1
fi
[ $fail -eq 0 ] && echo "bench_quick: ok"
exit $fail
