#!/usr/bin/env python3
"""The normal CI deduplication, timed on two dlrepo jars in the same run.

A CI re-uploads its artifacts into a new tag of the same branch the way dlrepo-cli does:
for each file a HEAD with its Digest (the dedup probe), then, on 200, a PUT with
X-Dlrepo-Link and no body. Both daemons run with authentication on and the ACLs of
etc/acls-examples/3-user-repositories (private user repositories); the CI is "alice"
uploading into her repository /~alice/. Called by bench/dedup/run.sh, which builds the jars.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime + stime, all threads


def cpu_busy():
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[0] + v[1] + v[2] + v[5] + v[6] + v[7], v[3] + v[4]
    b0, i0 = read()
    time.sleep(0.5)
    b1, i1 = read()
    total = (b1 - b0) + (i1 - i0)
    return 100 * (b1 - b0) / total if total else 0


class Daemon:
    def __init__(self, name, jar, work, acls, fsync):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(os.path.join(self.dir, "root"))
        os.makedirs(os.path.join(self.dir, "acls"))
        for f in os.listdir(acls):
            shutil.copy(os.path.join(acls, f), os.path.join(self.dir, "acls", f))
        with open(os.path.join(self.dir, "auth"), "w") as f:
            f.write("alice:alice-pw:users\nroot:root-pw:users admin\n")
        self.port = free_port()
        env = dict(os.environ,
                   DLREPO_ROOT_DIR=os.path.join(self.dir, "root"),
                   DLREPO_LISTEN_ADDRESS="127.0.0.1", DLREPO_LISTEN_PORT=str(self.port),
                   DLREPO_AUTH_DISABLED="0", DLREPO_AUTH_FILE=os.path.join(self.dir, "auth"),
                   DLREPO_ACLS_DIR=os.path.join(self.dir, "acls"),
                   DLREPO_TAG_CLEANUP_PERIOD="0", DLREPO_FSYNC=fsync, DLREPO_LOG_OUTPUT="console")
        self.log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.proc = subprocess.Popen(["java", "-Xmx256m", "-jar", jar], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                sys.exit("%s exited at start-up, see %s" % (name, self.log.name))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/")
                c.getresponse().read()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("%s did not answer on port %d" % (name, self.port))
                time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


AUTH = "Basic " + base64.b64encode(b"alice:alice-pw").decode()


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        h = {"Authorization": AUTH}
        h.update(headers or {})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise


def make_files(n, min_size, max_size, seed):
    rnd = random.Random(seed)
    files = []
    for i in range(n):
        data = rnd.randbytes(rnd.randint(min_size, max_size))
        files.append(("pkg/%02d/file%05d.bin" % (i % 50, i), data, "sha256:" + hashlib.sha256(data).hexdigest()))
    return files


def seed(d, files):
    c = Client(d.port)
    base = "/~alice/branches/ci/0/build/deb/"
    for rel, data, digest in files:
        st, body = c.request("PUT", base + rel, body=data,
                             headers={"Digest": digest, "Content-Type": "application/octet-stream"})
        if st != 201:
            sys.exit("%s: seeding %s: %d %s" % (d.name, rel, st, body[:200]))
    st, body = c.request("PATCH", base)
    if st != 200:
        sys.exit("%s: finalize: %d %s" % (d.name, st, body[:200]))


def dedup(d, files, tag, parallel, probe_only=False):
    """Probe + link every file into a new tag; returns (wall s, probe s, link s) summed over requests."""
    base = "/~alice/branches/ci/%s/build/deb/" % tag
    sums = {"probe": 0.0, "link": 0.0}
    lock = threading.Lock()
    errors = []

    def worker(part):
        c = Client(d.port)
        p = l = 0.0
        for rel, data, digest in part:
            t0 = time.perf_counter()
            st, _ = c.request("HEAD", base + rel, headers={"Digest": digest})
            t1 = time.perf_counter()
            if st != 200:
                errors.append("probe %s: %d" % (rel, st))
                continue
            if probe_only:
                p += t1 - t0
                continue
            st, body = c.request("PUT", base + rel, body=b"",
                                 headers={"Digest": digest, "X-Dlrepo-Link": digest, "Content-Length": "0"})
            t2 = time.perf_counter()
            if st != 201:
                errors.append("link %s: %d %s" % (rel, st, body[:200]))
            p += t1 - t0
            l += t2 - t1
        with lock:
            sums["probe"] += p
            sums["link"] += l

    parts = [files[i::parallel] for i in range(parallel)]
    threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        sys.exit("%s: dedup into tag %s failed (%d): %s" % (d.name, tag, len(errors), "; ".join(errors[:5])))
    return wall, sums["probe"], sums["link"]


def wait_quiet(max_busy, max_wait):
    deadline = time.time() + max_wait
    while cpu_busy() > max_busy:
        if time.time() >= deadline:
            return False
        time.sleep(1)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="jar of the code before the change")
    ap.add_argument("--after", required=True, help="jar of the code after the change")
    ap.add_argument("--acls", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--min-size", type=int, default=1024)
    ap.add_argument("--max-size", type=int, default=65536)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=10,
                    help="untimed rounds first: the JIT keeps compiling for some 20,000 requests")
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--fsync", default="0")
    ap.add_argument("--probe-only", action="store_true", help="time the probes alone (HEAD, no link)")
    ap.add_argument("--quiet-max", type=float, default=10)
    ap.add_argument("--quiet-wait", type=float, default=30)
    a = ap.parse_args()

    files = make_files(a.files, a.min_size, a.max_size, 11)
    daemons = {}
    try:
        for name, jar in (("before", a.before), ("after", a.after)):
            daemons[name] = Daemon(name, jar, a.work, a.acls, a.fsync)
        print("seeding tag 0 with %d files (%.1f MB) on each daemon ..." % (
            len(files), sum(len(f[1]) for f in files) / 1e6), flush=True)
        for d in daemons.values():
            seed(d, files)
        # warm-up (untimed): the JIT compiles the probe and link paths
        for w in range(a.warmup):
            for d in daemons.values():
                dedup(d, files, "w%d" % w, a.parallel, a.probe_only)
        res = {n: [] for n in daemons}
        noisy = 0
        for r in range(a.reps):
            order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
            line = []
            for name in order:
                d = daemons[name]
                if not wait_quiet(a.quiet_max, a.quiet_wait):
                    noisy += 1
                c0 = cpu_seconds(d.proc.pid)
                wall, probe, link = dedup(d, files, "r%d" % r, a.parallel, a.probe_only)
                cpu = cpu_seconds(d.proc.pid) - c0
                res[name].append((wall, probe, link, cpu))
                line.append("%s %.3f s" % (name, wall))
            print("  round %d/%d: %s" % (r + 1, a.reps, ", ".join(line)), flush=True)
    finally:
        for d in daemons.values():
            d.stop()

    n = len(files)
    print()
    print("dedup of %d files (%s, %d client thread(s)) into a new tag of the"
          " same branch, %d rounds alternating the order, DLREPO_FSYNC=%s, auth on, ACLs of"
          " 3-user-repositories" % (n, "HEAD probe only" if a.probe_only else "HEAD probe + X-Dlrepo-Link PUT each",
                                    a.parallel, a.reps, a.fsync))
    if noisy:
        print("WARNING: %d of %d runs started while other processes kept the CPUs > %d%% busy" % (
            noisy, 2 * a.reps, a.quiet_max))
    print("%-7s %9s %9s %11s %11s %9s   %s" % ("", "wall s", "best", "probe ms/f", "link ms/f", "CPU s",
                                             "runs (wall s)"))
    stats = {}
    for name in ("before", "after"):
        rows = res[name]
        walls = [x[0] for x in rows]
        st = {
            "median": statistics.median(walls), "best": min(walls),
            "probe": statistics.median(x[1] for x in rows) / n * 1000,
            "probe_best": min(x[1] for x in rows) / n * 1000,
            "link": statistics.median(x[2] for x in rows) / n * 1000,
            "link_best": min(x[2] for x in rows) / n * 1000,
            "cpu": statistics.median(x[3] for x in rows), "cpu_best": min(x[3] for x in rows),
        }
        stats[name] = st
        print("%-7s %9.3f %9.3f %11.3f %11.3f %9.2f   %s" % (name, st["median"], st["best"], st["probe"],
                                                            st["link"], st["cpu"],
                                                            " ".join("%.3f" % w for w in walls)))
    b, f = stats["before"], stats["after"]
    print()
    print("ratios after / before (> 1 = slower after the change):")
    print("  whole dedup, wall: %.3fx (medians), %.3fx (best runs)" % (f["median"] / b["median"], f["best"] / b["best"]))
    print("  probe (HEAD), per file: %.3fx (medians), %.3fx (best)" % (f["probe"] / b["probe"],
                                                                      f["probe_best"] / b["probe_best"]))
    if not a.probe_only:
        print("  link (PUT), per file: %.3fx (medians), %.3fx (best)" % (f["link"] / b["link"],
                                                                        f["link_best"] / b["link_best"]))
    print("  server CPU: %.3fx (medians), %.3fx (best)" % (f["cpu"] / b["cpu"], f["cpu_best"] / b["cpu_best"]))
    print(json.dumps({"files": n, "parallel": a.parallel, "fsync": a.fsync, "probe_only": a.probe_only,
                      "stats": stats}))


if __name__ == "__main__":
    main()
