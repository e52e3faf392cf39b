#!/usr/bin/env python3
"""Bytes on the wire per coding for the bench corpus's compressible files (issue 13).

Starts the release build on ../shared/bench's corpus, asks for each text file with
Accept-Encoding identity, gzip, zstd and br (waiting until the background queue made
the brotli and zstd variants), checks every body decodes to the file (Python's gzip,
the brotli and zstd command-line tools), and prints a Markdown table.

Usage: benchmarks/compression.py
"""
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build/release/companion")
FILES = [("a.test", "/index.html"), ("a.test", "/style.css"), ("a.test", "/app.js"), ("b.test", "/index.html"),
         ("b.test", "/b.css"), ("b.test", "/about/index.html")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, host, path, accept):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": host, "Accept-Encoding": accept})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.getheader("Content-Encoding"), body


def decode(coding, body):
    if coding is None:
        return body
    if coding == "gzip":
        return gzip.decompress(body)
    tool = {"br": "brotli", "zstd": "zstd"}[coding]
    return subprocess.run([tool, "-d", "-c"], input=body, capture_output=True, check=True).stdout


def main():
    subprocess.run(["swift", "build", "-c", "release", "--product", "companion"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="companion-compression-")
    subprocess.run([sys.executable, os.path.join(ROOT, "../shared/bench/make_corpus.py"), work], check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    config = {"listen": f"127.0.0.1:{port}", "sites": [{"host": "a.test", "root": os.path.join(work, "a"), "default": True},
                                                       {"host": "b.test", "root": os.path.join(work, "b")}]}
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(config, f)
    server = subprocess.Popen([BINARY, "serve", "--config", os.path.join(work, "config.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                fetch(port, "a.test", "/", "identity")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        rows = []
        totals = {"identity": 0, "gzip": 0, "zstd": 0, "br": 0}
        for host, path in FILES:
            sizes = {}
            for coding in ["identity", "gzip", "zstd", "br"]:
                deadline = time.time() + 30
                while True:
                    served, body = fetch(port, host, path, coding)
                    if (served or "identity") == coding or time.time() > deadline:
                        break
                    time.sleep(0.02)
                plain = decode(served, body)
                with open(os.path.join(work, host[0], path.lstrip("/")), "rb") as f:
                    assert plain == f.read(), f"{host}{path} {coding}: body does not decode to the file"
                sizes[coding] = (served or "identity", len(body))
                totals[coding] += len(body)
            rows.append((host + path, sizes))
    finally:
        server.terminate()
        server.wait()
    print("| file | identity | gzip (level 6) | zstd (19) | br (11) |")
    print("| --- | --- | --- | --- | --- |")
    for name, sizes in rows:
        identity = sizes["identity"][1]
        cells = [f"{identity:,}"] + [
            f"{sizes[c][1]:,} ({100 * sizes[c][1] / identity:.1f} %)" + ("" if sizes[c][0] == c else f" [{sizes[c][0]}]")
            for c in ["gzip", "zstd", "br"]]
        print(f"| {name} | " + " | ".join(cells) + " |")
    total = totals["identity"]
    print(f"| all | {total:,} | " + " | ".join(f"{totals[c]:,} ({100 * totals[c] / total:.1f} %)" for c in ["gzip", "zstd", "br"]) + " |")


if __name__ == "__main__":
    main()
