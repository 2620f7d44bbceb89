#!/usr/bin/env python3
"""Load on a running `sohoa serve`: concurrent searches and PDF downloads per second.

    scripts/load_api.py http://127.0.0.1:8080 TOKEN [--seconds 20] [--clients 8] [--query "viet nam"]

TOKEN must be an agency, certifier or admin token. Each client keeps one connection and
alternates a search (`GET /api/v1/search?q=…`) with the download of one of its hits
(`GET /api/v1/documents/{id}/pdf`, which also appends an audit row). Prints one JSON
object: requests per second of each kind, MB/s downloaded, errors. Standard library only.
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--query", default="viet nam")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.base)
    headers = {"Authorization": "Bearer " + a.token}
    search = "/api/v1/search?" + urllib.parse.urlencode({"q": a.query, "limit": 20})

    conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.request("GET", search, headers=headers)
    r = conn.getresponse()
    hits = json.loads(r.read())["hits"]
    if r.status != 200 or not hits:
        raise SystemExit(f"the search {a.query!r} finds nothing to download (status {r.status})")
    ids = [h["document_id"] for h in hits]

    counts = {"searches": 0, "downloads": 0, "bytes": 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + a.seconds

    def client(n):
        c = http.client.HTTPConnection(u.hostname, u.port)
        i = n
        while time.monotonic() < stop:
            for path, kind in ((search, "searches"), (f"/api/v1/documents/{ids[i % len(ids)]}/pdf?purpose=load", "downloads")):
                try:
                    c.request("GET", path, headers=headers)
                    resp = c.getresponse()
                    body = resp.read()
                    ok = resp.status == 200
                except OSError:
                    c = http.client.HTTPConnection(u.hostname, u.port)
                    ok, body = False, b""
                with lock:
                    if ok:
                        counts[kind] += 1
                        if kind == "downloads":
                            counts["bytes"] += len(body)
                    else:
                        counts["errors"] += 1
            i += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    print(json.dumps({
        "clients": a.clients,
        "seconds": round(wall, 1),
        "searches_per_s": round(counts["searches"] / wall, 1),
        "downloads_per_s": round(counts["downloads"] / wall, 1),
        "download_mb_per_s": round(counts["bytes"] / wall / 1e6, 1),
        "errors": counts["errors"],
    }))


if __name__ == "__main__":
    main()
