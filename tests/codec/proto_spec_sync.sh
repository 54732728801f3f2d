#!/usr/bin/env bash
# lib/proto/ holds exactly what scripts/gen-protos.py makes of the spec
# tables (shared/spec/, beside this repository), and every field of it
# compiles with protoc to the number, label, type and default the tables
# give (--check).  A hand edit of a generated file, or a spec change not
# carried over, fails here.
set -euo pipefail
cd "$(dirname "$0")/../.."
spec=${MESOS_SPEC_DIR:-../shared/spec}
if [ ! -f "$spec/messages-core.md" ]; then
  echo "SKIPPED: no spec tables at $spec (shared/ sits beside the repository on developer machines and in CI)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/gen-protos.py --spec "$spec" --out "$tmp" --check
status=0
for f in $(cd "$tmp" && find . -name '*.proto' | sed 's|^\./||' | sort); do
  if ! diff -u "lib/proto/$f" "$tmp/$f"; then
    echo "FAIL: lib/proto/$f differs from what scripts/gen-protos.py generates"
    status=1
  fi
done
exit $status
