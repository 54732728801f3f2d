#!/usr/bin/env bash
# The master benchmark works: `bench_master --quick` runs tiny versions of
# its benchmarks (a real master and clients over loopback) and prints one
# well-formed line each,
#   bench: <name> <value> <unit> baseline <name> <value> <unit> ratio <r>
# (the numbers themselves are only meaningful at full size, `make bench`).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 99
O=${O:-build}
bin=$O/bench/bench_master
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
for spec in "master-launch-throughput tasks/s" "master-reregister-10k ms" \
            "master-bytes-per-agent bytes" "master-bytes-per-task bytes"; do
  set -- $spec
  n=$(echo "$out" | grep -cE "^bench: $1 -?$num $2 baseline [a-z0-9-]+ $num $2 ratio -?$num$")
  if [ "$n" -ne 1 ]; then
    echo "FAIL: expected one well-formed 'bench: $1 ...' line, found $n"
    fail=1
  fi
done
# Nothing but bench lines and '#' comments.
if echo "$out" | grep -vE '^(bench: |# )' | grep -q .; then
  echo "FAIL: unexpected output lines:"
  echo "$out" | grep -vE '^(bench: |# )'
  fail=1
fi
if "$bin" --no-such-flag > /dev/null 2>&1; then
  echo "FAIL: $bin accepted an unknown argument"
  fail=1
fi
[ $fail -eq 0 ] && echo "bench_quick: ok"
exit $fail
