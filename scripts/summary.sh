#!/usr/bin/env bash
# Adds up the counts of several test runs (normal build and sanitizer build)
# into the closing line of make check.
set -u
p=0 f=0 s=0
for d in "$@"; do
  if [ -f "$d/counts" ]; then
    read -r a b c < "$d/counts"
    p=$((p + a)); f=$((f + b)); s=$((s + c))
  else
    echo "summary: no results in $d"; f=$((f + 1))
  fi
done
echo "make check:"
echo "${p} passed, ${f} failed, ${s} skipped"
[ "$f" -eq 0 ]
