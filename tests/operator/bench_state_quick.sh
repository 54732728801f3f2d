#!/usr/bin/env bash
# The state benchmark works: `bench_state --quick` runs a tiny cluster and
# prints one well-formed line per benchmark,
#   bench: <name> <value> <unit> baseline <name> <value> <unit> ratio <r>
# (the numbers only mean something at full size, `make bench`).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 99
O=${O:-build}
bin=$O/bench/bench_state
if [ ! -x "$bin" ]; then
  echo "FAIL: $bin does not exist (build it: make O=$O)"
  exit 1
fi
out=$(timeout 120 "$bin" --quick 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
  echo "FAIL: $bin --quick exited with $rc"
  exit 1
fi
num='[0-9]+(\.[0-9]+)?'
fail=0
for name in state-q-json state-q-getstate-json state-q-getstate-protobuf state-pollers-health-p99; do
  n=$(echo "$out" | grep -cE "^bench: $name $num ms baseline [a-z0-9-]+ $num ms ratio $num$")
  if [ "$n" -ne 1 ]; then
    echo "FAIL: expected one well-formed 'bench: $name ...' line, found $n"
    fail=1
  fi
done
if ! echo "$out" | grep -qE "^bench: state-q-master-rss $num MiB "; then
  echo "FAIL: no master RSS line"
  fail=1
fi
if echo "$out" | grep -vE '^(bench: |# )' | grep -q .; then
  echo "FAIL: unexpected output lines:"
  echo "$out" | grep -vE '^(bench: |# )'
  fail=1
fi
[ $fail -eq 0 ] && echo "bench_state_quick: ok"
exit $fail
