#!/usr/bin/env python3
"""Thousands of idle keep-alive connections against a running companion: RSS (anonymous) per
connection while they are open, and RSS after they all closed (memory must go
back near the baseline).

    python3 Tests/hostile/idle_connections.py --port 8080 --pid PID [--count 5000]

Prints one line of figures and exits 1 when a bound is exceeded (--max-per-conn bytes,
--max-left MiB over the baseline after closing)."""
import argparse
import resource
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            # RssAnon, not VmRSS: the server gives its start-up code pages back when it is
            # ready, and code run later is mapped again 64 KiB at a time (not per connection).
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise RuntimeError("no RssAnon")


def request(sock, host):
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(65536)


def settle(pid, seconds=2.5):
    """The lowest RSS seen over `seconds`: the server hands memory back on its once-a-second
    sweep, so a reading taken at once would not see it."""
    lowest = rss_kib(pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
        lowest = min(lowest, rss_kib(pid))
    return lowest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--host", default="a.test")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-per-conn", type=int, default=0, help="bytes; 0 = report only")
    parser.add_argument("--max-left", type=float, default=0, help="MiB over baseline after closing; 0 = report only")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.count + 100)), hard))

    # Warm up: one request, so caches and the first buffers exist before the baseline.
    with socket.create_connection(("127.0.0.1", args.port)) as warm:
        request(warm, args.host)
    baseline = settle(args.pid)
    results = []
    for round_index in range(args.rounds):
        sockets = []
        for _ in range(args.count):
            sock = socket.create_connection(("127.0.0.1", args.port))
            request(sock, args.host)
            sockets.append(sock)
        open_rss = settle(args.pid)
        for sock in sockets:
            sock.close()
        # Wait until the server has seen every close: a fresh request is answered after them.
        with socket.create_connection(("127.0.0.1", args.port)) as probe:
            request(probe, args.host)
        closed_rss = settle(args.pid)
        per_conn = (open_rss - baseline) * 1024 / args.count
        results.append((open_rss, closed_rss, per_conn))
        print(f"round {round_index + 1}: baseline {baseline / 1024:.1f} MiB, {args.count} idle: "
              f"{open_rss / 1024:.1f} MiB ({per_conn:.0f} B each), after close: {closed_rss / 1024:.1f} MiB "
              f"(+{(closed_rss - baseline) / 1024:.1f} MiB)")
    worst_per_conn = max(r[2] for r in results)
    worst_left = max(r[1] - baseline for r in results) / 1024
    failed = (args.max_per_conn and worst_per_conn > args.max_per_conn) or (args.max_left and worst_left > args.max_left)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
