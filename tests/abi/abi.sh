#!/usr/bin/env bash
# The library's ABI against the committed baseline abi/libmesos-core.abi
# (STYLE.md section 4; wxWidgets build/elfabi/check_all.sh does the same).
#
# The baseline is what `make abi-dump` writes: abidw's view of the
# exported functions and of every type reachable from them that is defined
# under include/mesos (changes to private types are filtered out by
# --headers-dir).  abidiff's exit status is a bit mask:
#   1, 2  abidiff itself failed                       -> FAIL
#   8     incompatible change (a symbol removed...)   -> FAIL, always
#   4     some ABI change abidiff deems compatible:
#         - only functions/variables added: PASS, provided every added
#           symbol carries the newest version node of lib/libmesos-core.map
#           (the node for this release; exports.sh checks it matches
#           version.h).  A symbol added after the baseline may never go
#           into an older, released node.  Additions are listed as NOTEs so
#           the baseline gets refreshed when the release is cut.
#         - anything else (a changed parameter or return type, a struct
#           that grew): FAIL.  abidiff calls a changed return type
#           "compatible" and that is not our promise.  Review it: appending
#           a field to an options struct or a vtable is allowed (STYLE.md
#           section 1: the version field says how much the caller filled
#           in); if the change is such an append, or the API is still
#           before its first release, refresh the baseline in the same
#           commit:  make abi-dump   (see README, "ABI").
. "$(dirname "$0")/common.inc"

baseline=abi/libmesos-core.abi
version=$(header_version)
real=$LIBOUT/libmesos-core.so.$version

command -v abidiff > /dev/null ||
  skip "abidiff not installed (Debian package abigail-tools; make deps installs it)"
[ -f "$baseline" ] || { echo "FAIL: no $baseline: create it with make abi-dump and commit it"; exit 1; }
[ -f "$real" ] || { echo "FAIL: $real does not exist (build the library first)"; exit 1; }

make_tmpdir
if ! map_parse > "$TMP/map" 2> "$TMP/map.err"; then
  echo "FAIL: $MAP_FILE: $(cat "$TMP/map.err")"
  exit 1
fi
newest=$(awk '$1 == "node" {n = $2} END {print n}' "$TMP/map")

abidiff --hd2 include/mesos "$baseline" "$real" > "$TMP/report" 2>&1
rc=$?
echo "abidiff $baseline $real: exit $rc"

if [ $((rc & 3)) -ne 0 ]; then
  cat "$TMP/report"
  echo "FAIL: abidiff could not compare (exit $rc)"
  exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
  cat "$TMP/report"
  echo "FAIL: incompatible ABI change against $baseline (abidiff exit bit 8): a released"
  echo "      function or variable was removed or changed incompatibly."
  exit 1
fi
if [ $((rc & 4)) -eq 0 ]; then
  echo "abi.sh: ok (no ABI change)"
  exit 0
fi

# Bit 4: allowed only when every change is an addition.
others=$(grep -E 'summary:' "$TMP/report" |
  grep -E '(^|[^0-9])[1-9][0-9]* (Removed|Changed)' || true)
if [ -n "$others" ]; then
  cat "$TMP/report"
  echo "FAIL: ABI change against $baseline that needs review (abidiff exit bit 4):"
  echo "$others" | sed 's/^/      /'
  echo "      If it is an append to an options struct or vtable, or the API has not"
  echo "      been released yet, refresh the baseline in the same commit with"
  echo "      'make abi-dump'; otherwise keep the old signature (see README, ABI)."
  exit 1
fi

# The added symbols, as name@@node from "[A] ... {name@@node}" lines or
# from the "not referenced by debug info" section ("[A] name@@node").
grep -E '^[[:space:]]*\[A\]' "$TMP/report" |
  grep -oE '[A-Za-z_][A-Za-z0-9_]*@@?[A-Za-z0-9_.]+' | sort -u > "$TMP/added"
if [ ! -s "$TMP/added" ]; then
  cat "$TMP/report"
  echo "FAIL: abidiff reported a change (exit 4) this script cannot classify"
  exit 1
fi
while IFS= read -r s; do
  name=${s%%@*} node=${s##*@}
  if [ "$node" = "$newest" ]; then
    echo "NOTE: $name was added since the baseline (in $node); refresh the baseline with"
    echo "      make abi-dump when $node is released"
  else
    problem "$name was added since the baseline but carries version $node; new symbols go into the newest node, $newest, of $MAP_FILE"
  fi
done < "$TMP/added"
finish
