#!/usr/bin/env python3
"""Real-socket cost of recording metrics: the packaged server with --metrics=false and with the defaults,
driven in alternating rounds by wrk (keep-alive, catch-all 404s) in one run. Prints requests per second and
the server's CPU time per request (user + system, from /proc), with medians and the ratio of medians.

Usage: backend-server/src/test/bench/metrics-overhead-wrk.py [--rounds N] [--seconds S] [--connections C]
Needs wrk and taskset; the servers are pinned to CPU 0 and wrk to CPU 1 when there are two or more CPUs."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
JAR = os.path.join(ROOT, "backend-server", "target", "backend-server.jar")
TICKS = os.sysconf("SC_CLK_TCK")


def start(extra, cpu):
    command = ["java", "-XX:+UseSerialGC", "-Xmx64m", "-jar", JAR, "--port", "0", "--svc-port", "0",
               "--bind-address", "127.0.0.1", "--io-threads", "1"] + extra
    if cpu is not None:
        command = ["taskset", "-c", str(cpu)] + command
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    for line in process.stdout:
        match = re.search(r"traffic port (\d+), service port (\d+)", line)
        if match:
            return process, int(match.group(1)), int(match.group(2))
        if time.time() > deadline:
            break
    process.kill()
    sys.exit("server did not start: " + " ".join(command))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def drive(port, seconds, connections, cpu):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/some/path"]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu)] + command
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not errors or int(errors.group(1)) != requests:
        sys.exit("expected only 404s from wrk:\n" + out)
    return requests


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    for tool in ("wrk", "java"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed")
    if not os.path.exists(JAR):
        subprocess.run([os.path.join(ROOT, "mvnw"), "-B", "-q", "-DskipTests", "package"], cwd=ROOT, check=True)
    two_cpus = (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    server_cpu, load_cpu = (0, 1) if two_cpus else (None, None)

    variants = {"--metrics=false": ["--metrics=false"], "default (metrics on)": []}
    servers = {name: start(extra, server_cpu) for name, extra in variants.items()}
    results = {name: {"rps": [], "us": []} for name in variants}
    try:
        for name, (process, port, _) in servers.items():
            drive(port, 2, args.connections, load_cpu)  # warm-up: JIT
        for round_number in range(args.rounds):
            names = list(variants)
            if round_number % 2:
                names.reverse()
            for name in names:
                process, port, _ = servers[name]
                before = cpu_seconds(process.pid)
                requests = drive(port, args.seconds, args.connections, load_cpu)
                used = cpu_seconds(process.pid) - before
                results[name]["rps"].append(requests / args.seconds)
                results[name]["us"].append(used / requests * 1e6)
        _, port, svc_port = servers["default (metrics on)"]
        scrape = urllib.request.urlopen(f"http://127.0.0.1:{svc_port}/metrics").read().decode()
        counted = float(re.search(r'^default_http_backend_http_request_count_total\{proto="1.1"\} (\S+)$', scrape,
                                  re.M).group(1))
    finally:
        for process, _, _ in servers.values():
            process.terminate()
            process.wait(timeout=15)

    print(f"{args.rounds} alternating rounds of {args.seconds} s, wrk -t1 -c{args.connections}, "
          f"server {'on CPU 0, wrk on CPU 1' if two_cpus else 'unpinned'}")
    print(f"{'variant':24} {'req/s median':>14} {'CPU us/req median':>18}   per round (us/req)")
    base = results["--metrics=false"]
    for name, result in results.items():
        print(f"{name:24} {statistics.median(result['rps']):14.0f} {statistics.median(result['us']):18.2f}   "
              + " ".join(f"{v:.2f}" for v in result["us"]))
    on = results["default (metrics on)"]
    print(f"ratio metrics on / off: req/s {statistics.median(on['rps']) / statistics.median(base['rps']):.3f}, "
          f"CPU per request {statistics.median(on['us']) / statistics.median(base['us']):.3f}")
    print(f"the metrics-on server counted {counted:.0f} catch-all 404s over HTTP/1.1")


if __name__ == "__main__":
    main()
