#!/usr/bin/env bash
# Regenerates the protobuf corpus of the protoc cross-check from its text
# form:
#
#   scripts/gen-proto-corpus.sh
#
# For every tests/data/proto-text/NAME.txtpb (first line
# "# proto-message: <full type name>", then comment lines, then the message
# in protobuf text format) this encodes the message with protoc into
# tests/data/proto-bin/NAME.bin and rewrites the text body in protoc's own
# canonical text form (what `protoc --decode` prints), keeping the leading
# comments.  Both are committed: the Check test reads the .bin files, and
# tests/codec/protoc_crosscheck.sh verifies that protoc still produces exactly
# these bytes and this text.
set -euo pipefail
cd "$(dirname "$0")/.."

protos=$(cd lib/proto && find . -name '*.proto' | sed 's|^\./||' | sort)
text=tests/data/proto-text
bin=tests/data/proto-bin
mkdir -p "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
for f in "$text"/*.txtpb; do
  name=$(basename "$f" .txtpb)
  type=$(sed -n '1s/^# proto-message: *//p' "$f")
  [ -n "$type" ] || { echo "$f: first line must be '# proto-message: TYPE'" >&2; exit 1; }
  # shellcheck disable=SC2086
  (cd lib/proto && protoc --encode="$type" $protos) < "$f" > "$tmp/$name.bin"
  # shellcheck disable=SC2086
  (cd lib/proto && protoc --decode="$type" $protos) < "$tmp/$name.bin" > "$tmp/$name.body"
  { sed -n '/^#/!q;p' "$f"; cat "$tmp/$name.body"; } > "$tmp/$name.txtpb"
  mv "$tmp/$name.txtpb" "$f"
  mv "$tmp/$name.bin" "$bin/$name.bin"
  n=$((n + 1))
done
echo "gen-proto-corpus: $n messages"
