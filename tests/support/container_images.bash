#!/usr/bin/env bash
# Builds the images of test_agent_containers.c into $1/registry (a local
# --docker_registry directory), from Debian's busybox-static with umoci and
# skopeo (tools nobody here wrote):
#   ocibox/               OCI image layout, tag "latest"
#   busybox:latest.tar    docker-archive (skopeo), repository rewritten to
#                         the short name as `docker save` writes it
# The image: /bin/busybox and applet links, /etc/passwd, /etc/image-marker,
# Env IMG=yes and PATH=/bin, Cmd "sh".  Prints "tools-missing: <names>"
# (and builds nothing) when a tool is missing; "overlay: yes|no" says
# whether overlayfs mounts work below $1.
set -euo pipefail
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
D=$1
missing=()
command -v umoci >/dev/null || missing+=(umoci)
command -v skopeo >/dev/null || missing+=(skopeo)
case "$(LC_ALL=C ldd /bin/busybox 2>&1 || true)" in
  *"not a dynamic"*) ;;
  *) missing+=(busybox-static) ;;
esac
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools-missing: ${missing[*]}"
  exit 0
fi
export SOURCE_DATE_EPOCH=1700000000
mkdir -p "$D/registry" "$D/work/src/bin" "$D/work/src/etc"
W=$D/work
cp /bin/busybox "$W/src/bin/busybox"
for a in sh cat ls echo test sleep head grep ps wc hostname id true tr dd; do
  ln -s busybox "$W/src/bin/$a"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$W/src/etc/passwd"
echo from-the-image > "$W/src/etc/image-marker"
cd "$W"
umoci init --layout oci >/dev/null
umoci new --image oci:latest >/dev/null
umoci insert --image oci:latest src / >/dev/null
umoci config --image oci:latest --config.cmd sh --config.env IMG=yes --config.env PATH=/bin >/dev/null
umoci gc --layout oci >/dev/null
cp -a oci "$D/registry/ocibox"
# skopeo cannot write a path with ':' in it: a temporary name, then rename.
skopeo copy -q oci:oci:latest docker-archive:"$W/busybox.tar":busybox:latest >/dev/null
"$PY" - "$W/busybox.tar" "$D/registry/busybox:latest.tar" <<'PY'
import io, json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
t = tarfile.open(src)
with tarfile.open(dst, "w", format=tarfile.GNU_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name == "repositories":
            r = json.loads(data)
            data = json.dumps({"busybox": list(r.values())[0]}).encode()
        m2 = tarfile.TarInfo(m.name); m2.type = m.type; m2.linkname = m.linkname; m2.mode = m.mode
        if data is not None:
            m2.size = len(data); o.addfile(m2, io.BytesIO(data))
        else:
            o.addfile(m2)
PY
rm -rf "$W"
# overlayfs below $D (not when $D is itself on overlayfs, or without it)
mkdir -p "$D/ovl/l" "$D/ovl/u" "$D/ovl/w" "$D/ovl/m"
if mount -t overlay overlay -o "lowerdir=$D/ovl/l,upperdir=$D/ovl/u,workdir=$D/ovl/w" "$D/ovl/m" 2>/dev/null; then
  umount "$D/ovl/m"
  echo "overlay: yes"
else
  echo "overlay: no"
fi
rm -rf "$D/ovl"
