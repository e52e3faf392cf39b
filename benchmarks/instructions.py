#!/usr/bin/env python3
"""User-space instructions per logged request, nginx vs lighttpd vs companion (issue 13).

Each server runs under valgrind's callgrind (all threads counted) the same way: one
worker, access log on (nginx and lighttpd to a file, companion to SQLite), a 1 KiB
index.html. Each is measured twice: started, asked once (the readiness probe) and
stopped; then the same plus N pipelined keep-alive requests on one connection. The
difference divided by N is the cost of a request, start-up and shutdown subtracted.
Instruction counts are repeatable where wall-clock timings here are not.

Usage: benchmarks/instructions.py [N] [--servers nginx,lighttpd,companion]
Needs valgrind, nginx, lighttpd (bash ../shared/bench/setup.sh installs the last two).
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build/release/companion")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_bytes():
    return b"GET /index.html HTTP/1.1\r\nHost: a.test\r\nUser-Agent: instructions\r\n\r\n"


def probe(port, deadline):
    """One request once the server answers (connection refusals make no request)."""
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not answer")


def pipelined(port, count, batch=100):
    """`count` requests on one keep-alive connection, `batch` at a time; returns responses read."""
    answered = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        pending = b""
        sent = 0
        while answered < count:
            if sent < count and sent - answered < batch:
                n = min(batch, count - sent)
                s.sendall(request_bytes() * n)
                sent += n
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            pending += chunk
            # Each response: head, then a 1024-byte body (Content-Length: 1024).
            while True:
                end = pending.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = pending[:end]
                match = re.search(rb"(?i)content-length:\s*(\d+)", head)
                length = int(match.group(1)) if match else 0
                if len(pending) < end + 4 + length:
                    break
                pending = pending[end + 4 + length:]
                answered += 1
    return answered


def server_command(name, work, port):
    """The command that serves `work`/a on `port` with one worker and the access log on."""
    if name == "nginx":
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off; master_process off; worker_processes 1; pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log {work}/nginx-access.log; client_body_temp_path {work}/tmp;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; server_name a.test; root {work}/a; }}
}}
""")
        command = ["nginx", "-c", conf, "-p", work]
    elif name == "lighttpd":
        conf = os.path.join(work, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write(f"""server.document-root = "{work}/a"
server.bind = "127.0.0.1"
server.port = {port}
server.modules = ("mod_accesslog")
accesslog.filename = "{work}/lighttpd-access.log"
server.errorlog = "{work}/lighttpd-error.log"
server.max-keep-alive-requests = 1000000
""")
        command = ["lighttpd", "-D", "-f", conf]
    else:
        conf = os.path.join(work, "companion.json")
        with open(conf, "w") as f:
            f.write(f'{{"listen": "127.0.0.1:{port}", "workers": 1, "sites": [{{"host": "a.test", "root": "{work}/a"}}], '
                    f'"accessLog": {{"sqlite": "{work}/access.sqlite"}}}}')
        command = [BINARY, "serve", "--config", conf]
    return command


def start(name, work, port):
    command = server_command(name, work, port)
    out = os.path.join(work, f"{name}.callgrind")
    log = open(os.path.join(work, f"{name}.valgrind.log"), "w")
    process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + command,
                               stdout=log, stderr=log, start_new_session=True)
    return process, out


def instructions(out):
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def run(name, work, count):
    port = free_port()
    process, out = start(name, work, port)
    probe(port, time.time() + 60)
    answered = pipelined(port, count) if count else 0
    # Under valgrind a signal can arrive while the server is between turns; ask again.
    for attempt in range(5):
        process.send_signal(signal.SIGINT if name == "companion" else signal.SIGTERM)
        try:
            process.wait(timeout=60)
            break
        except subprocess.TimeoutExpired:
            if attempt == 4:
                raise
    total = instructions(out)
    os.unlink(out)
    return total, answered


def build_companion(servers):
    """The release build, when companion is among `servers` (a comma-separated list)."""
    if "companion" in servers:
        subprocess.run(["swift", "build", "-c", "release", "--product", "companion"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)


def make_work(prefix):
    """A fresh folder with the site every server serves: a/index.html of 1 KiB (and tmp/)."""
    work = tempfile.mkdtemp(prefix=prefix)
    os.makedirs(os.path.join(work, "a"))
    os.makedirs(os.path.join(work, "tmp"))
    with open(os.path.join(work, "a", "index.html"), "wb") as f:
        f.write(b"x" * 1024)
    return work


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=10_000)
    parser.add_argument("--servers", default="nginx,lighttpd,companion")
    options = parser.parse_args()
    build_companion(options.servers)
    print(f"| server | start-up and stop | with {options.count:,} requests | per request |")
    print("| --- | --- | --- | --- |")
    for name in options.servers.split(","):
        work = make_work(f"companion-instructions-{name}-")
        base, _ = run(name, work, 0)
        loaded, answered = run(name, work, options.count)
        if answered != options.count:
            raise SystemExit(f"{name}: {answered} of {options.count} responses")
        print(f"| {name} | {base:,} | {loaded:,} | {(loaded - base) / options.count:,.0f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
