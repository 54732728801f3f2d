#!/usr/bin/env bash
# First-time layer extraction from the local registry: an OCI image (umoci)
# of busybox-static plus a copy of Python's standard library (tens of MB in
# thousands of files, gzip layers), provisioned into an empty store with the
# overlay backend (as root), against `tar -xzf` of the
# same layer blobs into empty directories.  Best of BENCH_ROUNDS (default 5)
# each, so load from elsewhere on the machine does not decide the ratio.
# Our time includes opening the image, checking every layer's sha256 and,
# as root, the overlay backend's conversion of whiteouts and its mount; as
# another user the copy backend, which also copies the layers into the
# container's rootfs (so the number is lower there).
#
#   bench: image-extract <ours> MB/s baseline tar-xzf <theirs> MB/s ratio <ours/theirs>
#
# MB are of uncompressed layer tar.  Exit 77 (skip) when a tool is missing.
set -euo pipefail
# Debian's python3 (tarfile, json and hashlib are all it needs); a version
# manager's shim in PATH can cost seconds per start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
cd "$(dirname "$0")/../.."
O=${O:-build}
TOOL=$O/bench/image_extract_tool
ROUNDS=${BENCH_ROUNDS:-5}

skip() { echo "SKIPPED: $*"; exit 77; }
[ -x "$TOOL" ] || skip "$TOOL is not built (make bench builds it)"
for t in umoci tar gzip python3; do command -v "$t" >/dev/null || skip "$t is not installed"; done
[ -x /bin/busybox ] || skip "busybox-static is not installed"
pylib=$(ls -d /usr/lib/python3.[0-9]* 2>/dev/null | head -1)
[ -n "$pylib" ] || skip "no /usr/lib/python3.* to use as layer content"

work=$(mktemp -d /tmp/bench-image-extract-XXXXXX)
cleanup() {
  # A failed run may leave nothing mounted (copy backend), but be sure.
  grep -o " $work[^ ]*" /proc/mounts 2>/dev/null | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export SOURCE_DATE_EPOCH=1700000000
mkdir -p "$work/src1/bin" "$work/src2/usr/lib"
cp /bin/busybox "$work/src1/bin/"
cp -a "$pylib" "$work/src2/usr/lib/"
# Keep the layer to plain files, links and directories.
find "$work/src2" \( -name __pycache__ -o -type p -o -type s \) -prune -exec rm -rf {} + 2>/dev/null || true
(
  cd "$work"
  umoci init --layout img >/dev/null
  umoci new --image img:latest >/dev/null
  umoci insert --image img:latest src1 / >/dev/null
  umoci insert --image img:latest src2 / >/dev/null
)
mkdir -p "$work/registry"
mv "$work/img" "$work/registry/bench"

layers=$("$PY" - "$work/registry/bench" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
man = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(" ".join(d + "/blobs/sha256/" + l["digest"][7:] for l in man["layers"]))
PY
)
bytes=0
for l in $layers; do bytes=$((bytes + $(gzip -dc "$l" | wc -c))); done

backend=copy
[ "$(id -u)" -eq 0 ] && backend=overlay
best_ours=
best_tar=
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$work/store" "$work/w" "$work/t"
  out=$("$TOOL" "$work/registry" bench:latest "$work/store" "$work/w" "$backend")
  s=$(echo "$out" | awk '{print $2}')
  n=$(echo "$out" | awk '{print $4}')
  [ "$n" -ge 2 ] || { echo "bench: expected the layers to be extracted, got: $out" >&2; exit 1; }
  mkdir -p "$work/t"
  t0=$(date +%s.%N)
  i=0
  for l in $layers; do
    i=$((i + 1)); mkdir -p "$work/t/$i"
    tar -xzf "$l" -C "$work/t/$i" 2>/dev/null || true
  done
  t1=$(date +%s.%N)
  st=$("$PY" -c "print($t1 - $t0)")
  best_ours=$("$PY" -c "a='$best_ours'; print(min(float(a), $s) if a else $s)")
  best_tar=$("$PY" -c "a='$best_tar'; print(min(float(a), $st) if a else $st)")
done
ls "$work/store/layers/"*/rootfs*/bin/busybox >/dev/null
"$PY" - "$bytes" "$best_ours" "$best_tar" <<'PY'
import sys
b, o, t = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
ours, base = b / o / 1e6, b / t / 1e6
print("bench: image-extract %.1f MB/s baseline tar-xzf %.1f MB/s ratio %.2f" % (ours, base, ours / base))
PY
