#!/usr/bin/env python3
"""Writes the cold-path fixtures straight into a storage root (layout: dlrepo-layout(7)).

  mkroot.py ROOT [TAGS [JOBS [BRANCHES]]]

  users/cold/branches/big/  TAGS tags (default 5000): names of mixed shapes (v1.<n>, <date>.<n>,
                      v2.<n>-rc1) so the natural order has work; creation times shuffled
                      against the names; some released, locked, stable, with a description
                      or a publish status; a cleanup policy that dooms most of them (in a
                      user repository, /~cold/branches/big/: the cleanup at start-up
                      applies the policies of the root repository only)
  branches/wide/t/    JOBS jobs (default 500), each with a .stamp, two or three metadata
                      keys and 1-3 formats (a .digests each); some locked, internal
  users/many/branches/  BRANCHES branches (default 200) of 10 tags each (/~many/branches/)

Deterministic: the same arguments give the same tree (times included).
"""
import json
import os
import random
import sys

DIR_MODE = 0o750
FILE_MODE = 0o640
BASE = 1_764_000_000  # a fixed epoch second: 2025-11-24


def mkdir(p):
    os.makedirs(p, mode=DIR_MODE, exist_ok=True)


def write(p, data=b"", mtime=None):
    """mtime: seconds since the epoch; a fraction of it is added (microseconds, as the API shows)."""
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, FILE_MODE)
    if mtime is not None:
        ns = mtime * 1_000_000_000 + (mtime * 7919 % 1_000_000) * 1000
        os.utime(p, ns=(ns, ns))


def tag_name(i):
    shape = i % 3
    if shape == 0:
        return f"v1.{i}"
    if shape == 1:
        return f"2026-11-{1 + i % 28:02d}.{i}"
    return f"v2.{i}-rc1"


def make_tag(path, i, stamp):
    mkdir(path)
    write(os.path.join(path, ".stamp"), mtime=stamp)
    if i % 10 == 0:
        write(os.path.join(path, ".released"))
    if i % 50 == 0:
        write(os.path.join(path, ".locked"))
    if i % 100 == 0:
        write(os.path.join(path, ".stable"))
    if i % 7 == 0:
        write(os.path.join(path, ".description"), f"build number {i}\n".encode())
    if i % 10 == 0 and i % 20 == 0:
        write(os.path.join(path, ".publish-status"), b"published to mirror\n")


def main():
    root = sys.argv[1]
    tags = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    branches = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    rnd = random.Random(13)

    big = os.path.join(root, "users", "cold", "branches", "big")
    mkdir(big)
    write(os.path.join(big, ".cleanup_policy"), b'{"max_daily_tags":100,"max_released_tags":20}')
    stamps = list(range(tags))
    rnd.shuffle(stamps)
    for i in range(tags):
        make_tag(os.path.join(big, tag_name(i)), i, BASE + stamps[i] * 60)

    tag = os.path.join(root, "branches", "wide", "t")
    make_tag(tag, 1, BASE)
    archs = ["x86_64", "aarch64", "riscv64"]
    for j in range(jobs):
        job = os.path.join(tag, f"job-{j:04d}")
        mkdir(job)
        write(os.path.join(job, ".stamp"), mtime=BASE + j)
        meta = {"arch": archs[j % 3], "os": f"debian-{11 + j % 3}"}
        if j % 4 == 0:
            meta["flavor"] = "debug"
        write(os.path.join(job, ".metadata"), json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
        if j % 9 == 0:
            write(os.path.join(job, ".locked"))
            write(os.path.join(job, ".digest"), b"0" * 64 + b"\n")
        if j % 13 == 0:
            write(os.path.join(job, ".internal"))
        for f in ["deb", "tar", "doc"][: 1 + j % 3]:
            fmt = os.path.join(job, f)
            mkdir(fmt)
            write(os.path.join(fmt, ".digests"), b"{}")

    many = os.path.join(root, "users", "many", "branches")
    for b in range(branches):
        br = os.path.join(many, f"branch-{b:03d}")
        mkdir(br)
        for t in range(10):
            make_tag(os.path.join(br, tag_name(t)), t, BASE + b * 100 + t)


if __name__ == "__main__":
    main()
