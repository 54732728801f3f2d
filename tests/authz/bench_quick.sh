#!/usr/bin/env bash
# The authorization benchmark works: `bench_authz --quick` runs tiny
# versions of its benchmarks and prints well-formed lines,
#   bench: <name> <value> <unit> baseline <name> <value> <unit> ratio <r>
# (the numbers mean something only at full size, `make bench`).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 99
O=${O:-build}
bin=$O/bench/bench_authz
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
check() {
  n=$(echo "$out" | grep -cE "^bench: $1 $num $2 baseline [a-z0-9-]+ $num $3 ratio $num$")
  if [ "$n" -ne 1 ]; then
    echo "FAIL: expected one well-formed 'bench: $1 ...' line, found $n"
    fail=1
  fi
}
check authz-checks checks/s lookups/s
check authz-filtered-codec ms ms
check authz-filtered-codec-all ms ms
check authz-filtered-getstate ms ms
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
