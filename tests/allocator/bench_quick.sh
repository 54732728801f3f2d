#!/usr/bin/env bash
# The allocator benchmark works: `bench_allocator --quick` runs tiny
# versions of the three benchmarks and prints one well-formed line each,
#   bench: <name> <value> <unit> baseline <name> <value> <unit> ratio <r>
# (the numbers themselves are only meaningful at full size, `make bench`).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 99
O=${O:-build}
bin=$O/bench/bench_allocator
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
for name in allocator-decline-10kx1k allocator-decline-20kx2k allocator-quota-3k; do
  n=$(echo "$out" | grep -cE "^bench: $name $num ms baseline [a-z0-9x-]+ $num ms ratio $num$")
  if [ "$n" -ne 1 ]; then
    echo "FAIL: expected one well-formed 'bench: $name ...' line, found $n"
    fail=1
  fi
done
# Nothing but bench lines and '#' comments.
if echo "$out" | grep -vE '^(bench: |# )' | grep -q .; then
  echo "FAIL: unexpected output lines:"
  echo "$out" | grep -vE '^(bench: |# )'
  fail=1
fi
# A wrong argument is refused.
if "$bin" --no-such-flag > /dev/null 2>&1; then
  echo "FAIL: $bin accepted an unknown argument"
  fail=1
fi
[ $fail -eq 0 ] && echo "bench_quick: ok"
exit $fail
