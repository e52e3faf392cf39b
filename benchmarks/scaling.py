#!/usr/bin/env python3
"""Scaling from one worker to two (issue 13, "More cores").

Runs ../shared/bench/run.py twice, unpinned (the servers and wrk share both cores), first
with every server at one worker and then at two: nginx `worker_processes`, lighttpd
`server.max-worker`, companion `"workers"`. Everything else is the harness's own config.
Prints requests/s at one and two workers, the gain, and the same-run ratio to nginx at two.

    python3 benchmarks/scaling.py [--repeat 3] [--duration 5] [--scenarios small,close,notfound]
                                  [--servers nginx,lighttpd] [--companion CMD] [--corpus DIR]

The raw runs are kept as benchmarks/results/<UTC time>-scaling-w1.json and -w2.json.
(With one wrk thread on a 2-core machine the client takes most of a core, so this shows how
each server uses what is left, not how it would scale on 16 or 64 cores: see the README.)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench"))


def run_one(workers, args, out_json):
    """Runs the harness in this interpreter with every server's worker count patched."""
    sys.path.insert(0, BENCH)
    import run as bench

    def after(prepare, patch):
        def wrapped(self, wd, port, sites, log_path):
            argv, env, path = prepare(self, wd, port, sites, log_path)
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(patch(text))
            return argv, env, path
        return wrapped

    def companion(text):
        config = json.loads(text)
        config["workers"] = workers
        return json.dumps(config, indent=2)

    def nginx(text):
        assert "worker_processes 1;" in text, "the harness's nginx config changed"
        return text.replace("worker_processes 1;", "worker_processes %d;" % workers)

    bench.Nginx.prepare = after(bench.Nginx.prepare, nginx)
    bench.Lighttpd.prepare = after(bench.Lighttpd.prepare,
                                   lambda t: t + ("server.max-worker = %d\n" % workers if workers > 1 else ""))
    bench.Companion.prepare = after(bench.Companion.prepare, companion)
    sys.argv = ["run.py", "--no-pin", "--servers", args.servers, "--companion", args.companion,
                "--scenarios", args.scenarios, "--repeat", str(args.repeat), "--duration", str(args.duration),
                "--json", out_json] + (["--corpus", args.corpus] if args.corpus else [])
    bench.main()


def median_rps(cell):
    runs = [r["rps"] for r in cell.get("runs", []) if r.get("rps")]
    return statistics.median(runs) if runs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="nginx,lighttpd")
    ap.add_argument("--companion", default=os.path.join(HERE, "..", ".build", "release", "companion")
                    + " serve --config {config}")
    ap.add_argument("--scenarios", default="small,close,notfound,vhost-b")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--corpus")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_one(args.one, args, args.json)
        return

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results = {}
    for workers in (1, 2):
        out = os.path.join(HERE, "results", "%s-scaling-w%d.json" % (stamp, workers))
        cmd = [sys.executable, os.path.abspath(__file__), "--one", str(workers), "--json", out,
               "--servers", args.servers, "--companion", args.companion, "--scenarios", args.scenarios,
               "--repeat", str(args.repeat), "--duration", str(args.duration)]
        if args.corpus:
            cmd += ["--corpus", args.corpus]
        print("== %d worker(s): %s" % (workers, out), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            results[workers] = json.load(f)

    servers = results[2]["servers"]
    print("\nrequests/s, median of %d; unpinned, one wrk thread, 2 cores" % args.repeat)
    print("| scenario | server | 1 worker | 2 workers | gain | 2 workers / nginx |")
    print("| --- | --- | --- | --- | --- | --- |")
    for scenario in results[2]["scenario_order"]:
        base = median_rps(results[2]["cells"].get("nginx", {}).get(scenario, {}))
        for server in servers:
            one = median_rps(results[1]["cells"].get(server, {}).get(scenario, {}))
            two = median_rps(results[2]["cells"].get(server, {}).get(scenario, {}))
            if one is None or two is None:
                continue
            print("| %s | %s | %.0f | %.0f | %.2fx | %s |" % (
                scenario, server, one, two, two / one, "%.2f" % (two / base) if base else "-"))


if __name__ == "__main__":
    main()
