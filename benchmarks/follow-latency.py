#!/usr/bin/env python3
"""How soon `companion logs --follow` shows a request (issue 10): the release build
with the default settings (flushMs 1000), one request every 200 ms, each with its
own query string; the time from the response to its line on --follow's stdout.

Usage: benchmarks/follow-latency.py [requests]
"""
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build/release/companion")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    subprocess.run(["swift", "build", "-c", "release", "--product", "companion"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="companion-follow-")
    os.makedirs(os.path.join(work, "site"))
    with open(os.path.join(work, "site", "index.html"), "w") as f:
        f.write("hello\n")
    port, admin = 18141, 18142
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump({"listen": f"127.0.0.1:{port}", "sites": [{"host": "a.test", "root": os.path.join(work, "site")}],
                   "accessLog": {"sqlite": os.path.join(work, "access.sqlite")}, "admin": {"listen": f"127.0.0.1:{admin}"}}, f)
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([BINARY, "serve", "--config", os.path.join(work, "config.json")], stdout=log, stderr=log)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{admin}/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    # One request so the database exists before --follow opens it.
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/?warm", headers={"Host": "a.test"})).read()
    time.sleep(1.5)
    follow = subprocess.Popen([BINARY, "logs", "--db", os.path.join(work, "access.sqlite"), "--follow", "--format", "ndjson", "--limit", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    buffer = b""
    seen = {}

    def read_lines(until):
        nonlocal buffer
        while time.time() < until:
            ready, _, _ = select.select([follow.stdout], [], [], max(0, until - time.time()))
            if not ready:
                return
            chunk = os.read(follow.stdout.fileno(), 65536)
            now = time.perf_counter()
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                query = json.loads(line).get("query")
                if query and query.startswith("n="):
                    seen.setdefault(int(query[2:]), now)

    sent = {}
    for n in range(count):
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/?n={n}", headers={"Host": "a.test"})).read()
        sent[n] = time.perf_counter()
        read_lines(time.time() + 0.2)
    read_lines(time.time() + 2)
    follow.send_signal(signal.SIGINT)
    follow.wait()
    server.send_signal(signal.SIGTERM)
    server.wait()
    latencies = sorted((seen[n] - sent[n]) * 1000 for n in sent if n in seen)
    missing = [n for n in sent if n not in seen]
    print(f"{len(latencies)} of {count} requests seen by --follow; latency from response to line: "
          f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms; missing {missing}")


if __name__ == "__main__":
    main()
