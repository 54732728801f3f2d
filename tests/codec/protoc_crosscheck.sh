#!/usr/bin/env bash
# protoc (the reference protobuf implementation) against the protoc-c code
# generated from lib/proto/, on the corpus in tests/data/proto-text/:
#
#  1. protoc --encode of every text message gives exactly the committed
#     tests/data/proto-bin/NAME.bin (else: rerun scripts/gen-proto-corpus.sh);
#  2. the Check program test_proto_roundtrip unpacks those fresh bytes with
#     the generated code (no unknown field allowed) and re-packs them to the
#     same bytes, writing what it packed;
#  3. protoc --decode of what protoc-c packed prints the corpus text exactly;
#  4. the message types protoc compiles from lib/proto/ (nested types and map
#     entries included) are exactly those the generated C code has.
#
# Step 0 first compiles every .proto alone with protoc and protoc-c and
# fails on any warning.
#
# Needs protoc, protoc-c and google/protobuf/descriptor.proto (scripts/deps.sh:
# protobuf-compiler, libprotobuf-dev), python3, and a built $O.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
prog=$O/tests/unit/proto/test_proto_roundtrip

for tool in protoc protoc-c python3; do
  command -v $tool >/dev/null || { echo "$tool not installed (scripts/deps.sh installs it)"; exit 1; }
done
[ -x "$prog" ] || { echo "$prog is not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/enc" "$tmp/repack"
protos=$(cd lib/proto && find . -name '*.proto' | sed 's|^\./||' | sort)
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# 0. Every .proto compiles with protoc and with protoc-c (as the Makefile
#    runs it), each on its own, without a single warning.
mkdir -p "$tmp/c_out"
for p in $protos; do
  (cd lib/proto && protoc --descriptor_set_out=/dev/null "$p") > "$tmp/protoc.out" 2>&1 ||
    fail "$p: protoc rejects it"
  (cd lib/proto && protoc-c --c_out="$tmp/c_out" "$p") >> "$tmp/protoc.out" 2>&1 ||
    fail "$p: protoc-c rejects it"
  [ ! -s "$tmp/protoc.out" ] || { fail "$p: compiler output:"; sed 's/^/    /' "$tmp/protoc.out"; }
done

# 1. protoc's encoding is the committed corpus.
n=0
for f in tests/data/proto-text/*.txtpb; do
  name=$(basename "$f" .txtpb)
  type=$(sed -n '1s/^# proto-message: *//p' "$f")
  [ -n "$type" ] || { fail "$f: no '# proto-message:' line"; continue; }
  # shellcheck disable=SC2086
  if ! (cd lib/proto && protoc --encode="$type" $protos) < "$f" > "$tmp/enc/$name.bin" 2> "$tmp/err"; then
    fail "$name: protoc cannot encode it: $(cat "$tmp/err")"
    continue
  fi
  cmp -s "$tmp/enc/$name.bin" "tests/data/proto-bin/$name.bin" ||
    fail "$name: protoc's encoding differs from tests/data/proto-bin/$name.bin (rerun scripts/gen-proto-corpus.sh)"
  n=$((n + 1))
done
[ "$n" -ge 12 ] || fail "only $n corpus messages"

# 2. protoc-c unpacks and re-packs protoc's bytes identically.
if ! MESOS_PROTO_BIN_DIR="$tmp/enc" MESOS_PROTO_REPACK_DIR="$tmp/repack" "$prog" > "$tmp/c.log" 2>&1; then
  fail "test_proto_roundtrip on protoc's encodings:"
  sed 's/^/    /' "$tmp/c.log"
fi

# 3. protoc decodes protoc-c's bytes to the same text.
for f in tests/data/proto-text/*.txtpb; do
  name=$(basename "$f" .txtpb)
  type=$(sed -n '1s/^# proto-message: *//p' "$f")
  [ -s "$tmp/repack/$name.bin" ] || { fail "$name: protoc-c wrote nothing"; continue; }
  # shellcheck disable=SC2086
  (cd lib/proto && protoc --decode="$type" $protos) < "$tmp/repack/$name.bin" > "$tmp/$name.txt" ||
    { fail "$name: protoc cannot decode protoc-c's bytes"; continue; }
  sed '/^#/d' "$f" > "$tmp/$name.want"
  diff -u "$tmp/$name.want" "$tmp/$name.txt" > "$tmp/$name.diff" ||
    { fail "$name: protoc --decode of protoc-c's packing differs:"; head -20 "$tmp/$name.diff"; }
done

# 4. Same set of message types on both sides.
# shellcheck disable=SC2086
(cd lib/proto && protoc --include_imports --descriptor_set_out="$tmp/set.bin" $protos)
(cd "$tmp" && protoc --decode=google.protobuf.FileDescriptorSet google/protobuf/descriptor.proto) \
  < "$tmp/set.bin" > "$tmp/set.txt"
python3 - "$tmp/set.txt" > "$tmp/protoc-types" <<'PY'
import sys
# Walks protoc's text dump of the FileDescriptorSet: every message_type and
# nested_type block, named package.Outer.Inner.
stack = []          # (block kind, name)
package = ""
names = []
for line in open(sys.argv[1]):
    s = line.strip()
    if s.endswith("{"):
        stack.append([s[:-1].strip(), None])
    elif s == "}":
        kind, name = stack.pop()
        if kind in ("message_type", "nested_type"):
            scope = [n for k, n in stack if k in ("message_type", "nested_type")]
            names.append(".".join(([package] if package else []) + scope + [name]))
    elif stack and s.startswith("name: ") and stack[-1][1] is None:
        stack[-1][1] = s[len('name: "'):-1]
    elif len(stack) == 1 and s.startswith("package: "):
        package = s[len('package: "'):-1]
    if len(stack) == 0:
        package = "" if s == "}" else package
print("\n".join(sorted(names)))
PY
"$prog" --list-types | sort > "$tmp/c-types"
if ! diff -u "$tmp/protoc-types" "$tmp/c-types" > "$tmp/types.diff"; then
  fail "message types differ between protoc (-) and the generated C code (+):"
  head -20 "$tmp/types.diff"
fi
types=$(wc -l < "$tmp/c-types")

if [ "$failed" -ne 0 ]; then
  echo "$failed failure(s)"
  exit 1
fi
echo "protoc cross-check: $n messages byte- and text-identical both ways; $types message types agree"
