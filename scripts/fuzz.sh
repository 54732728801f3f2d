#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c target with clang + libFuzzer + ASan/UBSan
# and runs each for a bounded time (FUZZ_SECONDS, default 60) over a copy of
# its corpus.  New crashing inputs are left in tests/fuzz/artifacts/ and fail
# the run: add them to the corpus once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
SECS=${FUZZ_SECONDS:-60}
FO=$O/fuzz-clang
mkdir -p "$FO" tests/fuzz/artifacts

# The library itself, instrumented for coverage, as a static archive.
make -s O="$FO" LIBOUT="$FO/lib" CC=clang SAN=1 OPT=-O1 \
  CFLAGS="-fsanitize=fuzzer-no-link -Wno-unknown-warning-option" "$FO/lib/libmesos-core.a"
libs=$(make --no-print-directory -s print-DEP_LIBS)
cflags=$(make --no-print-directory -s O="$FO" print-BASE_CFLAGS)

status=0
for src in tests/fuzz/fuzz_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  corpus=tests/fuzz/corpus/${name#fuzz_}
  echo "fuzz: $name for ${SECS}s"
  clang $cflags -Itests -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
    "$src" -o "$FO/$name" "$FO/lib/libmesos-core.a" $libs
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  if ! "$FO/$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=tests/fuzz/artifacts/"$name"- "$work" > "$FO/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $FO/$name.log and tests/fuzz/artifacts/"
    tail -30 "$FO/$name.log"
    status=1
  else
    grep -E '^(#[0-9]+|Done)' "$FO/$name.log" | tail -1
  fi
  rm -rf "$work"
done
exit $status
