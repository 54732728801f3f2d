#!/usr/bin/env bash
# `make bench`: runs every benchmark of one build ($O) and passes their
# `bench: <name> <value> <unit> baseline <name> <value> <unit> ratio <r>`
# lines through.  C benchmarks are the $O/bench/bench_* programs built from
# tests/bench/*.c; script benchmarks are tests/bench/*.sh (they find the
# build through $O and $LIBOUT).  A benchmark that fails makes the run fail,
# after the others have run.
set -uo pipefail

O=${O:-build}
LIBOUT=${LIBOUT:-lib}
export O LIBOUT
cd "$(dirname "$0")/.." || exit 1

status=0
ran=0
for b in "$O"/bench/bench_*; do
  if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
  ran=$((ran + 1))
  echo "== $(basename "$b")"
  if ! "$b"; then
    echo "bench: $(basename "$b") FAILED"
    status=1
  fi
done
for s in tests/bench/*.sh; do
  [ -f "$s" ] || continue
  ran=$((ran + 1))
  echo "== $(basename "$s")"
  bash "$s"
  rc=$?
  case $rc in
    0) ;;
    77) echo "bench: $(basename "$s") skipped" ;;
    *) echo "bench: $(basename "$s") FAILED (exit $rc)"; status=1 ;;
  esac
done
if [ "$ran" -eq 0 ]; then
  echo "bench: no benchmarks found under $O/bench or tests/bench"
  exit 1
fi
exit $status
