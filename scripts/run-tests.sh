#!/usr/bin/env bash
# Runs every test program of one build ($O) and prints one closing line:
#   N passed, N failed, N skipped
# C tests are Check programs (tests/unit/**/test_*, tests/integration/test_*);
# shell tests are tests/*/*.sh and follow the automake convention: exit 0
# pass, 77 skip (reason on a line "SKIPPED: ..."), anything else fail.
# Results also go to $O/test-results for the combined summary of make check.
set -uo pipefail

O=${O:-build}
LIBOUT=${LIBOUT:-lib}
export O LIBOUT SAN=${SAN:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TIMEOUT=${MESOS_TEST_TIMEOUT:-600}
label=${SAN:+ (asan+ubsan)}

if [ "${SAN:-}" = 1 ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # Check forks each test; a leak in the child must fail that test.
  export CK_FORK=yes
fi

results=$O/test-results
mkdir -p "$results"
rm -f "$results"/*
skipfile=$(mktemp)
export MESOS_TEST_SKIP_FILE=$skipfile
trap 'rm -f "$skipfile"' EXIT

passed=0 failed=0 skipped=0
failed_names=()

run_check_program() {
  local prog=$1 name=${1#$O/} log
  log="$results/$(echo "$name" | tr / _).log"
  local before after
  before=$(wc -l < "$skipfile")
  timeout -k 10 "$TIMEOUT" "$prog" > "$log" 2>&1
  local rc=$?
  after=$(wc -l < "$skipfile")
  local skips=$((after - before))
  # Check's summary: "NN%: Checks: C, Failures: F, Errors: E"
  local line checks=0 fails=0 errors=0
  line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
  if [ -n "$line" ]; then
    checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    fails=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    errors=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
  fi
  local bad=$((fails + errors))
  if [ -z "$line" ] || { [ $rc -ne 0 ] && [ $bad -eq 0 ]; }; then
    # Crashed, timed out or leaked outside any test case.
    bad=$((bad + 1))
  fi
  passed=$((passed + checks - fails - errors - skips))
  failed=$((failed + bad))
  skipped=$((skipped + skips))
  if [ $bad -gt 0 ]; then
    failed_names+=("$name")
    echo "FAIL $name (exit $rc)"
    grep -E ':[FE]:|ERROR|runtime error|LeakSanitizer|AddressSanitizer' "$log" | head -20 | sed 's/^/    /'
  else
    if [ $skips -gt 0 ]; then echo "ok   $name ($checks checks, $skips skipped)"; else echo "ok   $name ($checks checks)"; fi
  fi
}

run_shell_test() {
  local t=$1 log
  log="$results/$(echo "$t" | tr / _).log"
  timeout -k 10 "$TIMEOUT" bash "$t" > "$log" 2>&1
  local rc=$?
  case $rc in
    0) passed=$((passed + 1)); echo "ok   $t" ;;
    77) skipped=$((skipped + 1)); echo "skip $t: $(grep -m1 '^SKIPPED' "$log")"
        echo "$t: $(grep -m1 '^SKIPPED' "$log")" >> "$skipfile" ;;
    *) failed=$((failed + 1)); failed_names+=("$t"); echo "FAIL $t (exit $rc)"
       tail -15 "$log" | sed 's/^/    /' ;;
  esac
}

echo "== tests$label =="
while IFS= read -r prog; do
  run_check_program "$prog"
done < <(find "$O/tests" -type f -perm -u+x -name 'test_*' 2>/dev/null | sort)

# Fuzz corpus replays: every input of every corpus through the target.
while IFS= read -r drv; do
  name=$(basename "$drv" -replay)
  corpus=tests/fuzz/corpus/${name#fuzz_}
  log="$results/$name-replay.log"
  if [ -d "$corpus" ] && timeout -k 10 "$TIMEOUT" "$drv" "$corpus" > "$log" 2>&1; then
    passed=$((passed + 1)); echo "ok   fuzz replay $name"
  else
    failed=$((failed + 1)); failed_names+=("fuzz:$name"); echo "FAIL fuzz replay $name"
    tail -15 "$log" | sed 's/^/    /'
  fi
done < <(find "$O/fuzz" -type f -name 'fuzz_*-replay' 2>/dev/null | sort)

while IFS= read -r t; do
  run_shell_test "$t"
done < <(find tests -mindepth 2 -maxdepth 2 -name '*.sh' -path 'tests/*/*' ! -path 'tests/bench/*' ! -path 'tests/fuzz/*' 2>/dev/null | sort)

if [ -s "$skipfile" ]; then
  echo "skipped tests$label:"
  sed 's/^/  SKIPPED: /' "$skipfile"
fi
[ ${#failed_names[@]} -gt 0 ] && echo "failed$label: ${failed_names[*]}"
echo "$passed $failed $skipped" > "$results/counts"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
