#!/usr/bin/env python3
# Writes a `docker save` tarball in the legacy layout Mesos reads
# (repositories, <id>/json, <id>/layer.tar) whose one layer holds a single
# file of GIB gibibytes of zeros, for tests that need a provisioning that
# takes long (test_agent_containers5: an agent stopped while it extracts).
# The layer is gzip data made of many identical gzip members (RFC 1952
# allows members back to back), so the tarball stays a few MB and is
# written in well under a second.
#   huge_image.py OUT.tar GIB
import hashlib, io, json, sys, tarfile, zlib

out, gib = sys.argv[1], int(sys.argv[2])
CHUNK = 64 << 20
size = gib << 30


def gz(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


hdr = tarfile.TarInfo("zeros")
hdr.size = size
hdr.mode = 0o644
layer = io.BytesIO()
layer.write(gz(hdr.tobuf(format=tarfile.GNU_FORMAT)))
zeros = gz(bytes(CHUNK))
for _ in range(size // CHUNK):
    layer.write(zeros)
layer.write(gz(bytes(1024)))  # the end-of-archive blocks
lid = hashlib.sha256(b"huge-image-%d" % gib).hexdigest()
members = {
    "repositories": json.dumps({"huge": {"latest": lid}}).encode(),
    lid + "/json": json.dumps({"id": lid, "config": {"Cmd": ["/bin/true"]}}).encode(),
    lid + "/layer.tar": layer.getvalue(),
}
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    d = tarfile.TarInfo(lid)
    d.type = tarfile.DIRTYPE
    d.mode = 0o755
    t.addfile(d)
    for name, data in members.items():
        m = tarfile.TarInfo(name)
        m.size = len(data)
        m.mode = 0o644
        t.addfile(m, io.BytesIO(data))
