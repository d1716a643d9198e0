#!/usr/bin/env python3
"""Builds an OCI image layout (for skopeo's oci: transport), for bench/registry.

    mkimg.py DIR [layers] [size] [arch] [random]

Each layer is a gzipped tar holding one file of `size` bytes: repeated text by default,
or random bytes with `random` (incompressible: the layer is about as large as the file;
written with gzip level 1 and streamed, so a 100 MB layer needs little memory). Prints
the manifest digest. DIR/index.json tags the image "latest".
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

out = sys.argv[1]
nlayers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
size = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
arch = sys.argv[4] if len(sys.argv) > 4 else "amd64"
rand = len(sys.argv) > 5 and sys.argv[5] == "random"
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)


def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d


class Hashing(io.RawIOBase):
    """A write-only file that hashes and counts what goes through it."""

    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)


class Content(io.RawIOBase):
    """`size` bytes of content, read in pieces."""

    def __init__(self, i):
        self.left = size
        self.text = (f"layer {i} {arch}\n".encode() * 8192)

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left, 1 << 20)
        if n <= 0:
            return 0
        chunk = os.urandom(n) if rand else (self.text * (n // len(self.text) + 1))[:n]
        b[:n] = chunk
        self.left -= n
        return n


layers, diffs = [], []
for i in range(nlayers):
    tmp = os.path.join(out, f".layer{i}.tmp")
    with open(tmp, "wb") as raw:
        gz_out = Hashing(raw)
        with gzip.GzipFile(fileobj=gz_out, mode="wb", compresslevel=1, mtime=0) as gz:
            tar_out = Hashing(gz)
            with tarfile.open(fileobj=tar_out, mode="w|", format=tarfile.PAX_FORMAT) as t:
                ti = tarfile.TarInfo(f"file{i}-{arch}.bin")
                ti.size = size
                ti.mtime = 0
                t.addfile(ti, io.BufferedReader(Content(i), 1 << 20))
    diffs.append("sha256:" + tar_out.h.hexdigest())
    d = gz_out.h.hexdigest()
    os.replace(tmp, os.path.join(blobs, d))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": "sha256:" + d, "size": gz_out.n})
config = json.dumps({"architecture": arch, "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
cd = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + cd, "size": len(config)},
                       "layers": layers}).encode()
md = put(manifest)
index = {"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + md,
     "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
print("sha256:" + md)
