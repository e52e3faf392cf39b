#!/usr/bin/env python3
"""Log analytics at scale (issue 10): build an N-row access log by driving companion
itself with a mixed load, then time `companion logs` questions on it (median of 3),
the exports against the sqlite3 CLI, and GoAccess 1.7 on the vhost-combined export.

Load: 3 sites (~5,000 files), 5 % requests for missing paths, 40 user agents
(some bots), 200 referrers on a third of the requests, 50,000 client addresses
(X-Forwarded-For from a trusted proxy), a query string on 10 %. Server on CPU 0,
wrk on CPU 1, until the log has N rows; then SIGTERM (every row written).

Usage: benchmarks/analytics.py [rows] [--keep DIR] [--reuse DIR] [--no-goaccess]
Prints a Markdown table; writes benchmarks/results/<stamp>-analytics.md.
"""
import argparse
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build/release/companion")

LUA = r"""
local sites = {"a.test", "b.test", "c.test"}
local agents = {}
for i = 1, 30 do agents[#agents + 1] = "Mozilla/5.0 (X11; Linux x86_64) Browser/" .. i end
for i = 1, 6 do agents[#agents + 1] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_" .. i .. ") Mobile Safari" end
agents[#agents + 1] = "Googlebot/2.1 (+http://www.google.com/bot.html)"
agents[#agents + 1] = "bingbot/2.0"
agents[#agents + 1] = "curl/8.5.0"
agents[#agents + 1] = "python-requests/2.31"
local referrers = {}
for i = 1, 200 do referrers[#referrers + 1] = "https://ref" .. (i % 40) .. ".example/page/" .. i end
local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

local function path_for(site)
  if math.random(100) <= 5 then return "/missing/" .. math.random(20000) end
  if site == 1 then return "/docs/s" .. math.random(0, 49) .. "/p" .. math.random(0, 39) .. ".html" end
  if site == 2 then return "/blog/post-" .. math.random(0, 1999) .. ".html" end
  return "/files/f" .. math.random(0, 999) .. ".txt"
end

request = function()
  counter = counter + 1
  local site = math.random(3)
  local path = path_for(site)
  if math.random(10) == 1 then path = path .. "?q=" .. math.random(500) end
  local headers = {
    ["Host"] = sites[site],
    ["User-Agent"] = agents[math.random(#agents)],
    ["X-Forwarded-For"] = "10.0." .. math.random(0, 199) .. "." .. math.random(1, 250),
  }
  if math.random(3) == 1 then headers["Referer"] = referrers[math.random(#referrers)] end
  return wrk.format("GET", path, headers)
end
"""


def make_sites(work):
    rng = random.Random(1)
    layout = {
        "a": [f"docs/s{s}/p{p}.html" for s in range(50) for p in range(40)],
        "b": [f"blog/post-{i}.html" for i in range(2000)],
        "c": [f"files/f{i}.txt" for i in range(1000)],
    }
    for site, files in layout.items():
        for name in files:
            path = os.path.join(work, site, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(b"x" * rng.randint(200, 4000))


def rows_in(db):
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        (n,) = connection.execute("SELECT COALESCE(MAX(id), 0) FROM log").fetchone()
        connection.close()
        return n
    except sqlite3.Error:
        return 0


def build_log(work, target):
    make_sites(work)
    port = 18123
    admin = 18124
    config = {
        "listen": f"127.0.0.1:{port}",
        "workers": 1,
        "trustedProxies": ["127.0.0.1"],
        "sites": [
            {"host": "a.test", "root": os.path.join(work, "a"), "default": True},
            {"host": "b.test", "root": os.path.join(work, "b")},
            {"host": "c.test", "root": os.path.join(work, "c")},
        ],
        "accessLog": {"sqlite": os.path.join(work, "access.sqlite")},
        "admin": {"listen": f"127.0.0.1:{admin}"},
    }
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(config, f)
    with open(os.path.join(work, "load.lua"), "w") as f:
        f.write(LUA)
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(["taskset", "-c", "0", BINARY, "serve", "--config", os.path.join(work, "config.json")],
                              stdout=log, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{admin}/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    db = os.path.join(work, "access.sqlite")
    started = time.time()
    answered = 0
    while rows_in(db) < target:
        missing = target - rows_in(db)
        seconds = max(2, min(60, int(missing / 60000) + 1))
        out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", "-s", os.path.join(work, "load.lua"),
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "requests in" in line:
                answered += int(line.split()[0])
        print(f"  {rows_in(db):,} rows after {time.time() - started:.0f} s", file=sys.stderr)
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5).read().decode()
    server.send_signal(signal.SIGTERM)
    server.wait()
    elapsed = time.time() - started
    dropped = sum(float(line.split()[-1]) for line in metrics.splitlines()
                  if line.startswith("companion_access_log_rows_dropped_total"))
    return db, answered, elapsed, dropped


def run_timed(arguments, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (MiB) of one run of a command."""
    started = time.perf_counter()
    # stdin from /dev/null: GoAccess reads a piped stdin as more log lines and waits on it.
    # stderr to a file: GoAccess writes progress there and deadlocks on a full pipe.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=stdout, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"failed: {' '.join(arguments)}: {errors.read().decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024


def median_of_3(arguments, stdout=subprocess.DEVNULL):
    runs = [run_timed(arguments, stdout) for _ in range(3)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


QUESTIONS = [
    ("404s in the last hour, newest 50", ["--status", "404", "--since", "1h"]),
    ("404s in the last day, newest 50", ["--status", "404", "--since", "1d"]),
    ("5xx by path", ["--status", "5xx", "--group-by", "path"]),
    ("requests by hour over one day", ["--since", "1d", "--group-by", "hour", "--top", "0"]),
    ("--summary --since 1d", ["--summary", "--since", "1d"]),
    ("--status 404 --count, everything", ["--status", "404", "--count"]),
    ("--path '/docs/*' --since 7d --count", ["--path", "/docs/*", "--since", "7d", "--count"]),
    ("top 10 paths", ["--group-by", "path"]),
    ("bytes by site", ["--group-by", "site", "--sort", "bytes"]),
    ("unique clients per day", ["--group-by", "day", "--unique", "client"]),
    ("status by hour", ["--group-by", "hour,status", "--top", "0"]),
    ("--summary, everything (percentiles, unique clients)", ["--summary"]),
    ("top 404 paths", ["--status", "404", "--group-by", "path"]),
    ("top referrers", ["--group-by", "referrer"]),
    ("top user agents", ["--group-by", "user_agent"]),
    ("top clients", ["--group-by", "client"]),
    ("paths with p50/p95/p99", ["--group-by", "path", "--percentiles"]),
    ("clients in 10.0.0.0/16, count", ["--client", "10.0.0.0/16", "--count"]),
    ("paths without bots", ["--not-user-agent", "*bot*", "--group-by", "path"]),
    ("paths without crawlers", ["--ignore-crawlers", "--group-by", "path"]),
    ("crawlers by user agent", ["--crawlers-only", "--group-by", "user_agent"]),
    ("people by hour over one day", ["--ignore-crawlers", "--since", "1d", "--group-by", "hour", "--top", "0"]),
    ("slowest 10 requests", ["--slowest", "10"]),
    ("newest 50 rows", []),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=10_000_000)
    parser.add_argument("--keep", help="build the log in DIR and keep it")
    parser.add_argument("--reuse", help="time questions on the log already in DIR")
    parser.add_argument("--no-goaccess", action="store_true")
    parser.add_argument("--only-goaccess", action="store_true", help="with --reuse: time GoAccess only")
    options = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "companion"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    work = options.reuse or options.keep or tempfile.mkdtemp(prefix="companion-analytics-")
    os.makedirs(work, exist_ok=True)
    lines = []
    try:
        db = os.path.join(work, "access.sqlite")
        if not options.reuse:
            db, answered, elapsed, dropped = build_log(work, options.rows)
            lines.append(f"Built by companion in {elapsed:.0f} s: wrk read {answered:,} responses; rows dropped: {dropped:.0f}.")
        connection = sqlite3.connect(db)
        (rows,) = connection.execute("SELECT COUNT(*) FROM log").fetchone()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        size = os.path.getsize(db)
        lines.append(f"{rows:,} rows, {size / 1e6:.0f} MB: **{size / rows:.1f} bytes per row**.")
        lines.append("")
        lines.append("| question | command | seconds (median of 3) | peak RSS MiB |")
        lines.append("| --- | --- | --- | --- |")
        for title, arguments in ([] if options.only_goaccess else QUESTIONS):
            seconds, rss = median_of_3([BINARY, "logs", "--db", db] + arguments)
            lines.append(f"| {title} | `companion logs {' '.join(arguments)}` | {seconds:.3f} | {rss:.0f} |")
            print(lines[-1], file=sys.stderr)
        devnull = open(os.devnull, "w")
        exports = [("CSV export, every row", ["--format", "csv", "--limit", "0"]),
                   ("combined export, every row", ["--format", "combined", "--limit", "0"])]
        for title, arguments in ([] if options.only_goaccess else exports):
            seconds, rss = median_of_3([BINARY, "logs", "--db", db] + arguments, stdout=devnull)
            lines.append(f"| {title} | `companion logs {' '.join(arguments)}` | {seconds:.1f} | {rss:.0f} |")
            print(lines[-1], file=sys.stderr)
        if not options.only_goaccess:
            seconds, rss = median_of_3(["sqlite3", "-readonly", "-csv", "-header", db, "SELECT * FROM requests"], stdout=devnull)
            lines.append(f"| the sqlite3 CLI's CSV export of the same rows | `sqlite3 -csv -header DB 'SELECT * FROM requests'` | {seconds:.1f} | {rss:.0f} |")
            print(lines[-1], file=sys.stderr)
        if not options.no_goaccess:
            export = os.path.join(work, "access.log")
            with open(export, "w") as f:
                run_timed([BINARY, "logs", "--db", db, "--format", "vcombined", "--limit", "0"], stdout=f)
            seconds, rss = median_of_3(["goaccess", export, "--log-format=VCOMBINED", "-o", os.path.join(work, "goaccess.json")])
            lines.append(f"| GoAccess 1.7, every panel, from the vcombined export ({os.path.getsize(export) / 1e6:.0f} MB) "
                         f"| `goaccess access.log --log-format=VCOMBINED -o report.json` | {seconds:.1f} | {rss:.0f} |")
            print(lines[-1], file=sys.stderr)
            os.unlink(export)
    finally:
        if not options.keep and not options.reuse:
            shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "benchmarks/results"), exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    with open(os.path.join(ROOT, f"benchmarks/results/{stamp}-analytics.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
