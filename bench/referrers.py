#!/usr/bin/env python3
"""Driver of bench/referrers (one server, one round): see bench/referrers.

  referrers.py push <port> <pid> <name> <count> [<wrk-seconds> <checkpoints> [<tags>]]

Pushes a small image by tag (v1, and v2... up to <tags>), then <count> referrers of its manifest by digest (each
with a unique 64-byte layer, blobs uploaded before, untimed), timing each manifest PUT and
reading the server's CPU (utime + stime) around each block of 100 PUTs. At each count of
<checkpoints> (e.g. 10,100,1000) and wrk-seconds > 0, measures GET throughput with wrk on
the referrers listing, the tag listing and a manifest GET. Prints one JSON object.

  referrers.py tagpush <port> <pid> <name> <tag> [<manifest-file>]

Times a tag push of the image of <name>:v1 (HEAD of its blobs, then PUT of the manifest by
tag <tag>), the client's view of `docker push` when the blobs are there. Prints JSON.
"""
import hashlib, http.client, json, os, re, subprocess, sys, time

HZ = os.sysconf("SC_CLK_TCK")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY = b"{}"


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


class Client:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def req(self, method, path, body=None, headers=None):
        self.c.request(method, path, body=body, headers=headers or {})
        r = self.c.getresponse()
        data = r.read()
        return r.status, r.getheader("Location"), data

    def blob(self, name, data):
        d = digest(data)
        st, _, _ = self.req("HEAD", f"/v2/{name}/blobs/{d}")
        if st == 200:
            return d
        st, loc, body = self.req("POST", f"/v2/{name}/blobs/uploads/", b"")
        if st != 202:
            sys.exit(f"POST upload: {st} {body[:200]!r}")
        if loc.startswith("http"):
            loc = "/" + loc.split("/", 3)[3]
        sep = "&" if "?" in loc else "?"
        st, _, body = self.req("PUT", f"{loc}{sep}digest={d}", data,
                               {"Content-Type": "application/octet-stream"})
        if st != 201:
            sys.exit(f"PUT blob: {st} {body[:200]!r}")
        return d

    def manifest(self, name, ref, data):
        t0 = time.perf_counter()
        st, _, body = self.req("PUT", f"/v2/{name}/manifests/{ref}", data, {"Content-Type": OCI_MANIFEST})
        t = time.perf_counter() - t0
        if st != 201:
            sys.exit(f"PUT manifest {name}:{ref}: {st} {body[:300]!r}")
        return t


def image(name, c):
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "config": {}}).encode()
    layer = b"bench/referrers image layer\n" * 4
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c.blob(name, config),
                    "size": len(config)},
         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": c.blob(name, layer),
                     "size": len(layer)}]}
    return json.dumps(m, separators=(",", ":")).encode()


def referrer(name, c, subject, i, tagline):
    layer = f"signature {i} of {subject} {tagline}".encode().ljust(64, b".")
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example.signature",
         "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(EMPTY), "size": 2},
         "layers": [{"mediaType": "application/vnd.example.signature.v1", "digest": c.blob(name, layer),
                     "size": len(layer)}],
         "subject": {"mediaType": OCI_MANIFEST, "digest": subject[0], "size": subject[1]},
         "annotations": {"org.example.n": str(i)}}
    return json.dumps(m, separators=(",", ":")).encode()


def wrk(port, path, seconds, pid):
    # one untimed second first: the JIT compiles the path, as in a daemon serving for a while
    subprocess.run(["wrk", "-t1", "-c2", "-d1s", f"http://127.0.0.1:{port}{path}"], capture_output=True, check=True)
    c0 = ticks(pid)
    out = subprocess.run(["wrk", "-t1", "-c2", f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    c1 = ticks(pid)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": n, "cpu_us": (c1 - c0) / HZ / max(n, 1) * 1e6,
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def push(port, pid, name, count, wrk_s=0, checkpoints="", tags=1):
    c = Client(port)
    img = image(name, c)
    c.blob(name, EMPTY)
    c.manifest(name, "v1", img)
    for k in range(2, tags + 1):
        c.manifest(name, f"v{k}", img)
    subject = (digest(img), len(img))
    points = {int(x) for x in checkpoints.split(",") if x}
    times, cpu, gets = [], [], {}
    tagline = f"{time.time()}"
    for block in range(0, count, 100):
        bodies = [referrer(name, c, subject, i, tagline) for i in range(block, min(block + 100, count))]
        c0 = ticks(pid)
        for k, b in enumerate(bodies):
            times.append(c.manifest(name, digest(b), b))
            n = block + k + 1
            if n in points and wrk_s > 0:
                c1 = ticks(pid)
                gets[n] = {
                    "referrers": wrk(port, f"/v2/{name}/referrers/{subject[0]}", wrk_s, pid),
                    "tags": wrk(port, f"/v2/{name}/tags/list", wrk_s, pid),
                    "manifest": wrk(port, f"/v2/{name}/manifests/{subject[0]}", wrk_s, pid)}
                c0 = ticks(pid) - (c1 - c0)
        cpu.append((ticks(pid) - c0) / HZ / len(bodies))
    st, _, body = c.req("GET", f"/v2/{name}/referrers/{subject[0]}")
    listed = len(json.loads(body).get("manifests", [])) if st == 200 else None
    print(json.dumps({"times": times, "cpu_per_put": cpu, "gets": gets, "listed": listed,
                      "manifest": subject[0]}))


def tagpush(port, pid, name, tag):
    c = Client(port)
    st, _, img = c.req("GET", f"/v2/{name}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    if st != 200:
        sys.exit(f"GET {name}:v1: {st}")
    m = json.loads(img)
    c0 = ticks(pid)
    t0 = time.perf_counter()
    for d in [m["config"]["digest"]] + [l["digest"] for l in m["layers"]]:
        st, _, _ = c.req("HEAD", f"/v2/{name}/blobs/{d}")
        if st != 200:
            sys.exit(f"HEAD blob: {st}")
    put = c.manifest(name, tag, img)
    total = time.perf_counter() - t0
    cpu = (ticks(pid) - c0) / HZ
    st, _, body = c.req("GET", f"/v2/{name}/referrers/{digest(img)}")
    listed = len(json.loads(body).get("manifests", [])) if st == 200 else None
    print(json.dumps({"total": total, "put": put, "cpu": cpu, "listed": listed}))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "push":
        push(int(a[1]), int(a[2]), a[3], int(a[4]), int(a[5]) if len(a) > 5 else 0, a[6] if len(a) > 6 else "",
             int(a[7]) if len(a) > 7 else 1)
    elif a[0] == "tagpush":
        tagpush(int(a[1]), int(a[2]), a[3], a[4])
    else:
        sys.exit(__doc__)
