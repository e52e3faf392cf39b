#!/usr/bin/env python3
"""System calls per request, nginx vs lighttpd vs companion, counted by perf.

Each server is started as instructions.py starts it (one worker, access log on, a 1 KiB
index.html), pinned to core 0; once it answers, `perf stat` counts the entries of every
system call of all its threads (the syscalls:sys_enter_* tracepoints, and the failed
returns of read, recvfrom and accept4, EAGAIN mostly) while wrk (core 1, 4 connections,
3 s) asks for the file, with a new connection per request (the default) or on keep-alive
connections (`--keep-alive`). Printed: the requests wrk counted and each call's count
per request (failures in brackets), futex and the log writer's calls included.

Tracepoint counting leaves the servers at nearly full speed. strace does not: it makes
every call take tens of microseconds, which changes what the servers do (companion's file
cache, for one, reads its inotify descriptor when its last look is older than 50 us).

Usage: benchmarks/syscalls.py [--keep-alive] [--connections N] [--servers nginx,lighttpd,companion]
Needs perf (run as root), wrk, nginx, lighttpd (bash ../shared/bench/setup.sh installs the last three).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import time

import instructions


FAILURES = ["read", "recvfrom", "accept4"]


def count(name, work, keep_alive, connections):
    port = instructions.free_port()
    command = instructions.server_command(name, work, port)
    log = open(os.path.join(work, f"{name}.log"), "w")
    server = subprocess.Popen(["taskset", "-c", "0"] + command, stdout=log, stderr=log, start_new_session=True)
    table = os.path.join(work, f"{name}.perf")
    try:
        instructions.probe(port, time.time() + 30)
        events = ["-e", "syscalls:sys_enter_*"]
        for call in FAILURES:
            events += ["-e", f"syscalls:sys_exit_{call}", "--filter", "ret < 0"]
        counter = subprocess.Popen(["perf", "stat", "-p", str(server.pid), "-o", table] + events,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)   # perf opens its ~700 counters before wrk starts
        headers = ["-H", "Host: a.test"] + ([] if keep_alive else ["-H", "Connection: close"])
        result = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", "-d3"] + headers
                                + [f"http://127.0.0.1:{port}/index.html"], capture_output=True, text=True, check=True)
        counter.send_signal(signal.SIGINT)
        counter.wait(timeout=30)
    finally:
        server.send_signal(signal.SIGINT if name == "companion" else signal.SIGTERM)
        server.wait(timeout=30)
    requests = int(re.search(r"(\d+) requests in", result.stdout).group(1))
    calls, failures = {}, {}
    with open(table) as f:
        for line in f:
            match = re.match(r"\s*([\d,]+)\s+syscalls:sys_(enter|exit)_(\w+)", line)
            if match and match.group(1) != "0":
                (calls if match.group(2) == "enter" else failures)[match.group(3)] = int(match.group(1).replace(",", ""))
    return requests, calls, failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep-alive", action="store_true")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--servers", default="nginx,lighttpd,companion")
    options = parser.parse_args()
    instructions.build_companion(options.servers)
    print(f"system calls per request ({'keep-alive' if options.keep_alive else 'a new connection per request'}, "
          f"{options.connections} connections), failed returns in brackets")
    for name in options.servers.split(","):
        work = instructions.make_work(f"companion-syscalls-{name}-")
        requests, calls, failures = count(name, work, options.keep_alive, options.connections)
        total = sum(calls.values()) / requests
        listed = ", ".join(f"{call} {n / requests:.2f}" + (f" [{failures[call] / requests:.2f}]" if call in failures else "")
                           for call, n in sorted(calls.items(), key=lambda item: -item[1]) if n / requests >= 0.05)
        print(f"{name:10} {requests:>8,} requests  {total:5.2f} calls/request: {listed}")
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
