#!/usr/bin/env bash
# Builds the provisioner test fixtures into $1 (a fresh directory; with
# "tars-only" as $2 just hostile/ and canary/):
#   registry/        a local --docker_registry directory with busybox-static
#                    images made by tools nobody here wrote:
#     ocibox/                 OCI image layout (umoci), tag "latest": busybox,
#                             etc/hello, a whiteout of etc/gone, an opaque /opt"
#     ocitar:latest.tar       the same layout as a tarball
#     busybox:latest.tar      docker-archive (skopeo: manifest.json + legacy files)
#     legacy:latest.tar       legacy layout only (manifest.json dropped from
#                             skopeo's output by hand: skopeo cannot write it alone)
#     liar:latest.tar / lieoci  images whose digests lie
#   hostile/         layer tarballs (python3 tarfile) that try to escape
#   canary/          a directory the hostile layers aim at
# Prints "tools-missing: <names>" and builds only hostile/ when umoci,
# skopeo or busybox-static are missing (the C test then skips the image
# cases with that reason).
set -euo pipefail
# Debian's python3 (tarfile, json and hashlib are all it needs); a version
# manager's shim in PATH can cost seconds per start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
D=$1
mkdir -p "$D/registry" "$D/hostile" "$D/canary"
echo secret > "$D/canary/secret"
export SOURCE_DATE_EPOCH=1700000000

"$PY" - "$D" <<'PY'
import gzip, io, os, sys, tarfile
D = sys.argv[1]
H = os.path.join(D, "hostile")
canary = os.path.join(D, "canary")

def build(name, entries, fmt=tarfile.GNU_FORMAT):
    with tarfile.open(os.path.join(H, name), "w", format=fmt) as t:
        for e in entries:
            ti, data = e
            t.addfile(ti, io.BytesIO(data) if data is not None else None)

def f(name, data=b"x", mode=0o644):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode
    return ti, data

def sym(name, target):
    ti = tarfile.TarInfo(name); ti.type = tarfile.SYMTYPE; ti.linkname = target
    return ti, None

def hard(name, target):
    ti = tarfile.TarInfo(name); ti.type = tarfile.LNKTYPE; ti.linkname = target
    return ti, None

def d(name):
    ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
    return ti, None

up = "../" * 40
build("dotdot.tar", [f("ok"), f(up + canary.lstrip("/") + "/pwned")])
build("absolute.tar", [f(canary + "/pwned")])
build("symlink_escape.tar", [sym("link", canary), f("link/pwned")])
build("symlink_rel_escape.tar", [d("a"), sym("a/up", "../../../../../../../../../../.." + canary), f("a/up/pwned")])
build("hardlink_abs.tar", [hard("passwd", "/etc/passwd")])
build("hardlink_canary.tar", [hard("secret", canary + "/secret")])
build("hardlink_dotdot.tar", [hard("secret", up + canary.lstrip("/") + "/secret")])
build("hardlink_via_symlink.tar", [sym("c", canary), hard("secret", "c/secret")])
dev = tarfile.TarInfo("dev/null"); dev.type = tarfile.CHRTYPE; dev.devmajor = 1; dev.devminor = 3
build("device.tar", [d("dev"), (dev, None)])
blk = tarfile.TarInfo("sda"); blk.type = tarfile.BLKTYPE; blk.devmajor = 8; blk.devminor = 0
build("blockdev.tar", [(blk, None)])
# A file whose header declares 100 GiB followed by a few bytes only.
huge = tarfile.TarInfo("huge"); huge.size = 100 << 30
hb = huge.tobuf(tarfile.GNU_FORMAT)
with open(os.path.join(H, "huge.tar"), "wb") as o:
    o.write(hb + b"y" * 512)
# Good layer with long names, pax headers, links, a FIFO and whiteouts.
long = "d" * 120 + "/" + "f" * 150
good = [d("etc"), f("etc/hosts", b"127.0.0.1 localhost\n"), f(long, b"long\n"),
        sym("etc/link", "/etc/hosts"), hard("etc/hosts2", "etc/hosts"),
        f("bin/tool", b"#!/bin/sh\n", 0o4755), f("etc/.wh.gone", b""),
        d("opq"), f("opq/.wh..wh..opq", b""), f("opq/new", b"n")]
fifo = tarfile.TarInfo("fifo"); fifo.type = tarfile.FIFOTYPE; fifo.mode = 0o600
good.append((fifo, None))
build("good_pax.tar", good, tarfile.PAX_FORMAT)
build("good_gnu.tar", good, tarfile.GNU_FORMAT)
raw = open(os.path.join(H, "good_pax.tar"), "rb").read()
open(os.path.join(H, "good.tar.gz"), "wb").write(gzip.compress(raw, mtime=0))
gz = gzip.compress(raw, mtime=0)
open(os.path.join(H, "truncated.tar.gz"), "wb").write(gz[: len(gz) // 2])
bad = bytearray(gz); bad[len(bad) // 2] ^= 0xFF; bad[len(bad) // 2 + 1] ^= 0x55
open(os.path.join(H, "corrupt.tar.gz"), "wb").write(bytes(bad))
# pax xattrs: user.* is applied, trusted.overlay.* (which could steer
# overlayfs) is not.
xa = tarfile.TarInfo("xa"); xa.size = 1
xa.pax_headers = {"SCHILY.xattr.user.test": "v1", "SCHILY.xattr.trusted.overlay.redirect": "/etc"}
build("xattrs.tar", [(xa, b"x")], tarfile.PAX_FORMAT)
# Header checksum broken.
cs = bytearray(raw); cs[0] ^= 0x01
open(os.path.join(H, "badsum.tar"), "wb").write(bytes(cs))
# Truncated inside a file's data.
open(os.path.join(H, "truncated.tar"), "wb").write(raw[: 512 + 3])
PY

if [ "${2:-}" = tars-only ]; then
  exit 0
fi

missing=()
command -v umoci >/dev/null || missing+=(umoci)
command -v skopeo >/dev/null || missing+=(skopeo)
# The image's only binary must run without the host's libraries.
ldd_out=$(LC_ALL=C ldd /bin/busybox 2>&1 || true)
case "$ldd_out" in
  *"not a dynamic"*) ;;
  *) missing+=(busybox-static) ;;
esac
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools-missing: ${missing[*]}"
  exit 0
fi

W=$D/work
mkdir -p "$W/src/bin" "$W/src/etc"
cp /bin/busybox "$W/src/bin/busybox"
ln -s busybox "$W/src/bin/sh"
ln "$W/src/bin/busybox" "$W/src/bin/bb2"
echo hello > "$W/src/etc/hello"
# umoci records user.* xattrs as pax SCHILY.xattr headers (where the file
# system has them; the test checks only when the layer carries one).
"$PY" -c "import os, sys; os.setxattr(sys.argv[1], 'user.test', b'img')" "$W/src/etc/hello" \
  2>/dev/null || true
echo gone > "$W/src/etc/gone"
mkdir -p "$W/src/opt" "$W/opq"
echo old > "$W/src/opt/old"
echo new > "$W/opq/new"
cd "$W"
umoci init --layout oci >/dev/null
umoci new --image oci:latest >/dev/null
umoci insert --image oci:latest src / >/dev/null
umoci config --image oci:latest --config.entrypoint /bin/busybox --config.cmd sh \
  --config.cmd -c --config.cmd 'echo hi' --config.env FOO=bar --config.env PATH=/bin \
  --config.workingdir /etc --config.user 1000:1000 >/dev/null
umoci insert --image oci:latest --whiteout /etc/gone >/dev/null
# A third layer makes /opt opaque: only opt/new is left.
umoci insert --image oci:latest --opaque "$W/opq" /opt >/dev/null
umoci gc --layout oci >/dev/null
cp -a oci "$D/registry/ocibox"
(cd oci && tar -cf "$D/registry/ocitar:latest.tar" oci-layout index.json blobs)
# skopeo cannot write a path with ':' in it: a temporary name, then rename.
skopeo copy -q oci:oci:latest docker-archive:"$W/busybox.tar":busybox:latest >/dev/null
"$PY" - "$W/busybox.tar" "$D/registry" <<'PY'
import io, json, os, sys, tarfile
src, reg = sys.argv[1], sys.argv[2]
t = tarfile.open(src)
members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]

def write(path, drop=(), repo="busybox", edit=None):
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as o:
        for m, data in members:
            if m.name in drop:
                continue
            if m.name == "repositories":
                # docker save writes the short name; skopeo the long one.
                r = json.loads(data)
                data = json.dumps({repo: list(r.values())[0]}).encode()
            if edit:
                data = edit(m.name, data)
            m2 = tarfile.TarInfo(m.name); m2.type = m.type; m2.linkname = m.linkname
            m2.mode = m.mode
            if data is not None:
                m2.size = len(data)
                o.addfile(m2, io.BytesIO(data))
            else:
                o.addfile(m2)

write(os.path.join(reg, "busybox:latest.tar"))
write(os.path.join(reg, "legacy:latest.tar"), drop=("manifest.json",), repo="legacy")
# A docker-archive whose config lists a diff_id its layer does not have.
def lie(name, data):
    if name.endswith(".json") and "/" not in name and data and b"diff_ids" in data:
        c = json.loads(data)
        c["rootfs"]["diff_ids"][-1] = "sha256:" + "0" * 64
        return json.dumps(c).encode()
    return data
members_cfg = None
def write_liar():
    # The config changes, so its file name (its digest) changes too: rename
    # it and point manifest.json at the new name, as an honest tool would;
    # only the diff_id lies.
    import hashlib
    cfgname = [m.name for m, _ in members if m.name.endswith(".json") and "/" not in m.name and m.name != "manifest.json"][0]
    cfgdata = lie(cfgname, dict((m.name, d) for m, d in members)[cfgname])
    newname = hashlib.sha256(cfgdata).hexdigest() + ".json"
    with tarfile.open(os.path.join(reg, "liar:latest.tar"), "w", format=tarfile.GNU_FORMAT) as o:
        for m, data in members:
            name = m.name
            if name == cfgname:
                name, data = newname, cfgdata
            elif name == "manifest.json":
                data = data.replace(cfgname.encode(), newname.encode()).replace(
                    b"docker.io/library/busybox", b"liar")
            m2 = tarfile.TarInfo(name); m2.type = m.type; m2.linkname = m.linkname; m2.mode = m.mode
            if data is not None:
                m2.size = len(data); o.addfile(m2, io.BytesIO(data))
            else:
                o.addfile(m2)
write_liar()
PY
# An OCI layout whose top layer blob does not hash to its name.
cp -a oci "$D/registry/lieoci"
"$PY" - "$D/registry/lieoci" <<'PY'
import gzip, io, json, os, sys, tarfile
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
man = json.load(open(os.path.join(d, "blobs/sha256", idx["manifests"][0]["digest"][7:])))
top = man["layers"][-1]["digest"][7:]
p = os.path.join(d, "blobs/sha256", top)
os.chmod(p, 0o644)
# Valid gzip, valid tar, other content: only the digest tells.
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    ti = tarfile.TarInfo("etc/evil"); ti.size = 4
    t.addfile(ti, io.BytesIO(b"evil"))
open(p, "wb").write(gzip.compress(buf.getvalue(), mtime=0))
PY
cd /
rm -rf "$W"
echo "fixtures: ok"
