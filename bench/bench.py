#!/usr/bin/env python3
"""Side-by-side benchmark of the default backend and Debian's nginx, in one run, on loopback.

Started by bench/run.sh, which checks the tools, builds the jar and raises the open-files limit; see
`bench/run.sh --help` for the options. Standard library only.

Each server is pinned to core 0 and wrk to core 1. The throughput cases run interleaved (every case, both
servers, alternating which goes first, then the next repetition) so that a burst of noise from the rest of
the machine lands on both. Every figure printed is a median over the repetitions with its min-max; every
ratio is the median of the per-repetition ratios ours/nginx, each taken from two runs made one after the
other. Server CPU time is user+system from /proc/PID/stat (all threads; for nginx the master and its worker).
"""

import argparse
import fcntl
import http.client
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEMURIN_25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
# The image build's AOT training run, and the flags the image's build and ENTRYPOINT give with the cache:
# mapped where it was made, not relocated (docker/Dockerfile).
AOT_TRAINING = os.path.join(ROOT, "docker", "aot", "AotTraining.java")
IMAGE_AOT_FLAGS = ["-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0"]
SERVER_CORE = "0"
CLIENT_CORE = "1"
# Held for the whole of a run: two runs at once would pin their servers and wrk to the same two cores and
# silently corrupt each other's figures.
LOCK_PATH = "/tmp/kidb-bench.lock"
# The headers ingress-nginx adds to a request it forwards, and a browser's own (PipelineBenchmark.PROXIED).
PROXY_HEADERS = [
    "X-Request-ID: 3f2a9c8e1b7d4e6f9a0b1c2d3e4f5a6b",
    "X-Real-IP: 203.0.113.7",
    "X-Forwarded-For: 203.0.113.7",
    "X-Forwarded-Host: shop.example.com",
    "X-Forwarded-Port: 443",
    "X-Forwarded-Proto: https",
    "X-Scheme: https",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding: gzip, deflate, br",
]
NOT_FOUND_BODY = b"default backend - 404"
# The floor part's server (Netty's epoll or io_uring transport answering every read with fixed bytes), and the
# cases it can serve: one request per read, the client waiting for each answer.
FLOOR_SERVER = os.path.join(HERE, "FloorServer.java")
FLOOR_CASES = ("ka64", "ka1000", "healthz", "ka64paced", "ka1000paced", "xcode", "proxied")
FLOOR_DEFAULT_CASES = ("ka64", "ka1000")

# Used when docker/jvm.options (the image's flags, a java @argfile) is absent. These are the flags this
# benchmark recommends for the image; the JDK 24+ ones are added only on such a JDK (JDK 17 refuses them).
FALLBACK_FLAGS = [
    "-XX:+UseSerialGC",
    "-Xms8m",
    "-Xmx64m",
    # Serial GC gives heap back after a burst (10,000 connections opened at once) instead of keeping it.
    "-XX:MinHeapFreeRatio=10",
    "-XX:MaxHeapFreeRatio=30",
    "-XX:MaxDirectMemorySize=32m",
    "-XX:MaxMetaspaceSize=48m",
    "-XX:ReservedCodeCacheSize=32m",
    "-Xss512k",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    # Netty's JFR events make the first buffer allocation load about a hundred jdk.jfr classes: a large
    # share of start-up (Temurin 25 + AOT cache: 769 -> 474 ms to the first 200, bench/run.sh --parts startup).
    "-Dio.netty.jfr.enabled=false",
]
FALLBACK_FLAGS_JDK24 = [
    "-XX:+UseCompactObjectHeaders",
    # Hands the C2 compiler's freed arenas back to the kernel instead of keeping them in glibc's heap.
    "-XX:TrimNativeHeapInterval=2000",
    # Netty 4.2 leaves sun.misc.Unsafe alone on JDK 24+ unless allowed; without it, start-up and memory suffer.
    "--sun-misc-unsafe-memory-access=allow",
    "--enable-native-access=ALL-UNNAMED",
]

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{
    worker_connections 16384;
}}
http {{
    access_log off;
    server_tokens off;
    default_type text/plain;
    charset utf-8;
    # 1.5's idle keep-alive timeout, and no cap on requests per connection (ours has none).
    keepalive_timeout {keepalive};
    keepalive_requests 100000000;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    # The contract, as issue 6 gives it, for every case but the custom-error ones: nothing else is evaluated
    # per request (an X-Code test here would cost every request a header lookup and a script).
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        location = /healthz {{
            return 200 "ok";
        }}
        location / {{
            return 404 "default backend - 404";
        }}
    }}
    # The custom-error cases' server (X-Code), done the cheapest way nginx can: one fixed JSON page for
    # X-Code 503.
    server {{
        listen 127.0.0.1:{x_code_port} backlog=1024;
        location = /healthz {{
            return 200 "ok";
        }}
        location / {{
            if ($http_x_code = "503") {{
                rewrite ^ /__x_code_503 last;
            }}
            return 404 "default backend - 404";
        }}
        location = /__x_code_503 {{
            internal;
            default_type "application/json";
            charset off;
            return 503 '{{"code":503,"message":"Service Unavailable"}}';
        }}
    }}
}}
"""


class BenchError(Exception):
    """A case could not run or the server answered wrongly: the run fails (figures never fail it)."""


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: field 14 (utime) and 15 (stime) of proc(5) are at index 11 and 12.
    return int(fields[11]), int(fields[12])


def proc_status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def http_get(port, path="/", headers=None, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def java_major(java):
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else 0


def kill_group(pgid):
    """SIGKILL to a process group started by this script (start_new_session), if anything of it is left."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_group(command, timeout, **kwargs):
    """subprocess.run in a process group of its own, killed whole whatever ends the wait: a timeout, or SIGTERM,
    SIGHUP or Ctrl-C raising in this process. subprocess.run would kill only the process it started, and the AOT
    training program starts the server it trains."""
    process = subprocess.Popen(command, start_new_session=True, **kwargs)
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:
        kill_group(process.pid)
        process.wait()
        raise
    kill_group(process.pid)  # anything it started and left behind
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def tail(path, lines=10):
    """The last lines of a log file, or nothing when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Server:
    """A server under test, started pinned to the server core, as a child of this process."""

    def __init__(self, name, command, port, workdir, env=None, x_code_port=None):
        self.name = name
        self.command = command
        self.port = port
        # Where the custom-error (X-Code) cases go, when not to `port`: nginx serves them on a server of their
        # own, so that the other cases get the contract's configuration alone.
        self.x_code_port = x_code_port
        self.workdir = workdir
        self.env = env
        self.process = None
        self.log_path = os.path.join(workdir, f"{name.replace(' ', '_')}.log")
        self.started_at = None
        self.ready_at = None  # time.monotonic() of its first /healthz 200

    def port_for(self, case):
        """The port a case's requests go to."""
        return self.x_code_port if case.get("x_code") and self.x_code_port else self.port

    def start(self):
        self.started_at = time.monotonic()
        with open(self.log_path, "ab") as out:
            # A session of its own (taskset execs the server, which leads it): stop() can then kill the whole
            # group, nginx's worker with its master, and Ctrl-C in a terminal reaches only this script, which
            # stops the servers itself.
            self.process = subprocess.Popen(["taskset", "-c", SERVER_CORE] + self.command, stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env,
                                            start_new_session=True)
        return self

    def wait_ready(self, timeout=30.0, interval=0.001):
        """Polls /healthz until it answers 200; returns the time from process start to that answer, in s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode} before answering; "
                                 f"see {self.log_path}:\n{self.tail_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200 "):
                        self.ready_at = time.monotonic()
                        return self.ready_at - self.started_at
            except OSError:
                pass
            time.sleep(interval)
        raise BenchError(f"{self.name} did not answer /healthz within {timeout} s")

    def tail_log(self):
        return tail(self.log_path)

    def check_alive(self, when):
        """Raises when the server's process has exited."""
        if self.process.poll() is not None:
            raise BenchError(f"{self.name} exited with {self.process.returncode} {when}; see {self.log_path}:\n"
                             f"{self.tail_log()}")

    def pids(self):
        return [self.process.pid] + children(self.process.pid)

    def cpu_ticks(self):
        user = system = 0
        for pid in self.pids():
            try:
                u, s = proc_cpu_ticks(pid)
            except OSError:
                continue
            user += u
            system += s
        return user, system

    def rss_kb(self, key="VmRSS"):
        total = 0
        for pid in self.pids():
            try:
                total += proc_status_kb(pid, key)
            except OSError:
                pass
        return total

    def pss_kb(self):
        """PSS (proportional set size), summed over the processes: a page shared by several processes is split
        between them, where RSS counts it in each (nginx's master and worker share most of theirs). Read from
        /proc/PID/smaps_rollup, which walks the process's mappings: read at rest, never under load."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
            except OSError:
                pass
        return total

    def open_sockets(self):
        count = 0
        for pid in self.pids():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
                    except OSError:
                        pass
            except OSError:
                pass
        return count

    def stop(self, timeout=15.0):
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                # nginx stops gracefully on SIGQUIT; the backend on SIGTERM (SIGQUIT would make the JVM dump threads).
                self.process.send_signal(signal.SIGQUIT if self.name == "nginx" else signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    raise BenchError(f"{self.name} did not stop within {timeout} s")
        finally:
            # The whole group, not only the process started: killing nginx's master alone would leave its worker
            # running, and so would a master that died by itself.
            kill_group(self.process.pid)
            if self.process.poll() is None:
                self.process.wait()


class Bench:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.running = []
        self.trained = {}  # (java, flags, archive kind, jar) -> the flags that use the archive
        self.native_dirs = {}  # jar -> the folder its epoll library was extracted to
        self.aot_used = False  # whether the throughput or memory parts ran with the image's AOT cache
        self.java = args.java
        self.java_major = java_major(self.java)
        self.jvm_flags, self.flags_source = self.flags_for(self.java_major)
        # Last, so that nothing above can fail with the folder made and main() not yet in its try.
        self.tmp = tempfile.mkdtemp(prefix="defaultbackend-bench-")

    # ---- starting servers ---------------------------------------------------------------------------

    def flags_for(self, major):
        options = self.args.jvm_options
        if options and os.path.exists(options) and major >= 25:
            # The argfile sizes the heap from the container's memory limit; on the host the JVM would
            # see all of its memory, so the pod's limit is given as the machine's size instead.
            pod = [f"-XX:MaxRAM={self.args.pod_memory}"] if self.args.pod_memory else []
            argfiles = [options]
            # The image reads jvm25.options (flags JDK 17 refuses) after jvm.options, from the same folder.
            newer = os.path.join(os.path.dirname(options), "jvm25.options")
            if os.path.exists(newer):
                argfiles.append(newer)
            return ([f"@{f}" for f in argfiles] + pod + self.args.jvm_arg,
                    " ".join(f"@{os.path.relpath(f, ROOT)}" for f in argfiles))
        flags = list(FALLBACK_FLAGS) + (FALLBACK_FLAGS_JDK24 if major >= 24 else []) + self.args.jvm_arg
        return flags, "fallback flags of bench/bench.py"

    def backend(self, name="backend", java=None, flags=None, extra_jvm=(), port=None, server_args=(), jar=None,
                baseline=False):
        """Our server on a free port, with --server-arg's flags, or --baseline-server-arg's for the baseline."""
        java = java or self.java
        flags = self.jvm_flags if flags is None else flags
        port = port or free_port()
        jar = jar or self.args.jar
        chosen = self.args.baseline_server_arg if baseline else self.args.server_arg
        command = [java] + list(flags) + list(extra_jvm) + self.library_path(jar) + [
            "-jar", jar, "--port", str(port), "--svc-port", "0", "--bind-address", "127.0.0.1", *chosen,
            *server_args]
        return Server(name, command, port, self.tmp)

    def library_path(self, jar):
        """-Djava.library.path to the jar's native transport libraries (epoll, io_uring) for this machine,
        extracted once, as the image's ENTRYPOINT has them.

        Without it Netty copies the library out of the jar into a temporary file at every start, which
        the image never does (docker/Dockerfile puts them in /app/lib): that copy, and the SecureRandom it
        names the file with, cost about 15 ms of the first /healthz and 1 MiB of RSS that are not the
        image's.
        """
        if jar not in self.native_dirs:
            arch = {"x86_64": "x86_64", "aarch64": "aarch_64"}.get(platform.machine())
            entries = [f"META-INF/native/libnetty_transport_native_{name}_{arch}.so"
                       for name in ("epoll", "io_uring42")]
            folder = os.path.join(self.tmp, f"native-{len(self.native_dirs)}")
            try:
                with zipfile.ZipFile(jar) as archive:
                    for entry in entries:
                        archive.extract(entry, folder)
                        os.replace(os.path.join(folder, entry), os.path.join(folder, os.path.basename(entry)))
                self.native_dirs[jar] = [f"-Djava.library.path={folder}"]
            except (KeyError, OSError, zipfile.BadZipFile) as e:
                log(f"no native libraries extracted from {jar} ({e}): Netty extracts them at every start")
                self.native_dirs[jar] = []
        return self.native_dirs[jar]

    def nginx(self, keepalive="10s"):
        port = free_port()
        x_code_port = free_port()
        while x_code_port == port:
            x_code_port = free_port()
        conf_dir = os.path.join(self.tmp, f"nginx-{port}")
        os.makedirs(conf_dir)
        conf = os.path.join(conf_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=conf_dir, port=port, x_code_port=x_code_port, keepalive=keepalive))
        return Server("nginx", [self.args.nginx, "-p", conf_dir, "-c", conf, "-e", f"{conf_dir}/nginx-error.log"],
                      port, self.tmp, x_code_port=x_code_port)

    def started(self, server):
        """The server started and answering, or stopped and the error raised: one that never got ready must not
        stay on the server core through the parts after it."""
        self.running.append(server)
        try:
            server.start()
            server.wait_ready()
        except BaseException:
            try:
                self.stop(server)
            except BenchError as e:
                log(str(e))
            raise
        return server

    def stop(self, server):
        # Out of the running list only once stopped: a signal during the stop leaves it there for cleanup().
        server.stop()
        self.running.remove(server)

    def cleanup(self):
        # A second signal must not cut the cleanup short and leave servers or the temporary folder behind.
        for sig in STOP_SIGNALS + (signal.SIGINT,):
            signal.signal(sig, signal.SIG_IGN)
        for server in list(self.running):
            try:
                server.stop()
            except BenchError as e:
                log(str(e))
        if not self.args.keep_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def fail(self, message):
        log("FAILED: " + message)
        self.failures.append(message)

    # ---- wrk ------------------------------------------------------------------------------------------

    def wrk(self, server, case, duration):
        command = ["taskset", "-c", CLIENT_CORE, self.args.wrk, "-t1", f"-c{case['connections']}",
                   f"-d{duration}s", "--timeout", "2s", "--latency"]
        for header in case.get("headers", []):
            command += ["-H", header]
        if case.get("script"):
            command += ["-s", case["script"]]
        command.append(f"http://127.0.0.1:{server.port_for(case)}{case['path']}")
        if case.get("script_args"):
            command += ["--"] + case["script_args"]

        peak = [0]
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                try:
                    peak[0] = max(peak[0], server.rss_kb())
                except OSError:
                    pass

        sampler = threading.Thread(target=sample, daemon=True)
        server.check_alive("before the wrk run")
        pids = server.pids()
        user0, sys0 = server.cpu_ticks()
        sampler.start()
        try:
            result = run_group(command, duration + 30, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        finally:
            done.set()
            sampler.join()
        # A process that died during the run would read as no CPU at all (cpu_ticks skips what it cannot read),
        # and wrk's errors would be blamed for it: the case fails saying so. nginx's master restarts a worker
        # that dies, whose CPU time would then be lost as silently.
        server.check_alive("during the wrk run")
        if server.pids() != pids:
            raise BenchError(f"{server.name}'s processes changed during the wrk run ({pids} -> {server.pids()}): "
                             f"one died and was replaced, its CPU time lost; see {server.log_path}:\n"
                             f"{server.tail_log()}")
        user1, sys1 = server.cpu_ticks()
        out = result.stdout
        if result.returncode != 0:
            raise BenchError(f"wrk exited {result.returncode}: {result.stderr.strip()}")
        parsed = parse_wrk(out)
        if parsed["requests"] == 0:
            raise BenchError(f"wrk made no request:\n{out}")
        errors = parsed["errors"]
        if errors["connect"] or errors["read"] or errors["write"]:
            raise BenchError(f"wrk socket errors {errors}:\n{out}")
        # Requests wrk gave up on after 2 s: reported beside the slowest answered one, and failing the case
        # beyond one in a thousand.
        if errors["timeout"] > parsed["requests"] // 1000:
            raise BenchError(f"wrk timeouts {errors['timeout']} for {parsed['requests']} requests")
        if case.get("percentiles") and parsed["p999_us"] is None:
            raise BenchError(f"wrk printed no percentiles line (bench/percentiles.lua):\n{out}")
        expected_errors = parsed["requests"] if case["status_over_399"] else 0
        if parsed["non_2xx_3xx"] != expected_errors:
            raise BenchError(f"{parsed['non_2xx_3xx']} of {parsed['requests']} responses had a status over 399, "
                             f"expected {expected_errors}")
        if case.get("batch"):
            # wrk records one latency per batch, and corrects them for coordinated omission with an interval
            # as many times too short as the batch holds requests (bench/pipeline.lua): its percentiles are
            # not per-request latencies, whatever it prints, and are dropped rather than shown as such. Its
            # slowest figure is kept, as a batch's.
            parsed["p50_us"] = parsed["p90_us"] = parsed["p99_us"] = parsed["p999_us"] = parsed["p9999_us"] = None
        tick_us = 1e6 / CLK_TCK
        parsed["user_us"] = (user1 - user0) * tick_us / parsed["requests"]
        parsed["sys_us"] = (sys1 - sys0) * tick_us / parsed["requests"]
        parsed["cpu_us"] = parsed["user_us"] + parsed["sys_us"]
        parsed["core_busy"] = (user1 - user0 + sys1 - sys0) / CLK_TCK / parsed["seconds"]
        parsed["peak_rss_kb"] = peak[0]
        return parsed

    def probe(self, server, case):
        """One request before the load, so that a wrong answer fails the case rather than skewing it."""
        headers = dict(h.split(": ", 1) for h in case.get("headers", []) if not h.startswith("Connection"))
        status, content_type, body = http_get(server.port_for(case), case["path"], headers)
        return status, content_type, body

    # ---- the suite ------------------------------------------------------------------------------------

    def cases(self):
        pipeline = os.path.join(HERE, "pipeline.lua")
        flat_out = [
            {"name": "keep-alive, 64 connections", "key": "ka64", "path": "/", "connections": 64,
             "status_over_399": True, "memory_peak": True},
            {"name": "keep-alive, 1000 connections", "key": "ka1000", "path": "/", "connections": 1000,
             "status_over_399": True, "memory_peak": True},
            {"name": "new connection per request, 64", "key": "close", "path": "/", "connections": 64,
             "headers": ["Connection: close"], "status_over_399": True},
            # wrk times this case per write, a batch of 16 requests, not per request (bench/pipeline.lua):
            # "batch" makes its latencies reported as not applicable, and its slowest as a batch's.
            {"name": "pipelined, depth 16, 64 connections", "key": "pipe16", "path": "/", "connections": 64,
             "script": pipeline, "script_args": ["16"], "status_over_399": True, "batch": 16},
            {"name": "custom error (X-Code: 503, JSON), 64", "key": "xcode", "path": "/", "connections": 64,
             "headers": ["X-Code: 503", "Accept: application/json"], "status_over_399": True, "x_code": True},
            {"name": "/healthz, 64 connections", "key": "healthz", "path": "/healthz", "connections": 64,
             "status_over_399": False},
            # What a default backend mostly receives: requests forwarded by ingress-nginx, with its proxy
            # headers and a browser's, on the upstream keep-alive connections it holds (320 by default).
            {"name": "proxied by ingress-nginx, 320 connections", "key": "proxied", "path": "/api/v1/unknown?page=2",
             "connections": 320, "headers": PROXY_HEADERS, "status_over_399": True},
        ]
        by_key = {case["key"]: case for case in flat_out}

        def paced(key, pause_ms):
            """The case `key`, its requests unchanged, with each connection pausing after every answer."""
            case = dict(by_key[key], name=f"{by_key[key]['name']}, paced ({pause_ms} ms pause)", key=key + "paced",
                        script=os.path.join(HERE, "paced.lua"), script_args=[str(pause_ms)], paced=True)
            case.pop("memory_peak", None)  # the peak under keep-alive load is read flat out
            return case

        # The same requests at the same offered load for both servers, below saturation: each connection
        # pauses after every answer (wrk's timers have a millisecond's resolution). Flat out, both cores are
        # busy and the requests queue at whichever of server and wrk is the slower per request, so a few
        # percent of CPU per request, or a stall such as a young collection, moves the p99 of the flat-out
        # cases a lot (bench/RESULTS.md); these give the latency at a load both servers carry with room to
        # spare. `proxied` pauses connections/64 ms, as the scaling part does: at most 64,000 requests a second,
        # about 40,000 measured.
        return flat_out + [paced("ka64", 1), paced("ka1000", 10), paced("xcode", 1), paced("proxied", 5)]

    def selected_cases(self):
        """The cases --cases names, in the suite's order; all of them without it."""
        return [c for c in self.cases() if not self.args.cases or c["key"] in self.args.cases]

    def check_probe(self, server, case):
        """Returns None when the server can run the case, or why it cannot; raises when it answers wrongly."""
        status, content_type, body = self.probe(server, case)
        if case["key"] == "healthz":
            if status != 200 or body != b"ok":
                raise BenchError(f"{server.name} /healthz answered {status} {body[:40]!r}")
        elif case.get("x_code"):
            # An older build of ours may not know X-Code; nginx's configuration always does, so a 404 from it is
            # a case sent to the wrong server block (Server.port_for), not a case to leave out.
            if status == 404 and body == NOT_FOUND_BODY and server.name != "nginx":
                return "n/a (X-Code not supported by this build)"
            if status != 503 or not (content_type or "").startswith("application/json"):
                raise BenchError(f"{server.name} answered X-Code 503 with {status} {content_type}")
        elif status != 404 or body != NOT_FOUND_BODY:
            raise BenchError(f"{server.name} answered {case['path']} with {status} {body[:40]!r}")
        return None

    def run(self):
        args = self.args
        log(f"temporary files in {self.tmp}")
        log(f"backend: {self.java} (JDK {self.java_major}) with {self.flags_source}: {' '.join(self.jvm_flags)}")
        report = Report(args, self)

        if "throughput" in args.parts:
            self.throughput(report)
        if "peak" in args.parts:
            self.keepalive_peak(report)
        if "scaling" in args.parts:
            self.scaling(report)
        if "tail" in args.parts:
            self.tail(report)
        if "floor" in args.parts:
            self.floor(report)
        if "alloc" in args.parts:
            self.allocation(report)
        if "idle" in args.parts:
            self.idle_connections(report)
        if "startup" in args.parts:
            self.startup(report)
        if "warmup" in args.parts:
            self.warm_up(report)
        report.print()
        if report.notes:
            # Not failures (bench/run.sh --help says which are which), but said where a CI log shows them.
            log(f"{len(report.notes)} note(s), parts left out or capped, not failures: see the end of the report")
        if self.failures:
            print(f"\n{len(self.failures)} case(s) FAILED:", *self.failures, sep="\n  ")
            return 1
        return 0

    def throughput(self, report):
        args = self.args
        # Every AOT cache trained before any server starts: a training run (3.5 s) between two starts would put
        # the first servers' idle readings seconds later than the others', and load the machine meanwhile.
        ours_runtime = self.image_runtime("image")
        baseline_runtime = self.image_runtime("baseline", args.baseline_jar) if args.baseline_jar else None
        ours = self.started(self.backend(extra_jvm=ours_runtime))
        theirs = self.started(self.nginx())
        servers = [ours, theirs]
        if args.baseline_jar:
            # Another build of the server, same JVM and flags, in the same rotation: a change measured
            # side by side with what it changes, on the same machine at the same moments.
            servers.insert(1, self.started(self.backend(
                "baseline", jar=args.baseline_jar, extra_jvm=baseline_runtime, baseline=True)))
        # Each server's idle RSS read 0.5 s and --idle-rest s after its own first 200, not after the last
        # server's. The second reading: a pod is idle for far longer than half a second, and start-up's transient
        # memory (the JIT compiler's arenas, pages the JVM trims back to the kernel every two seconds) has been
        # handed back by then.
        for label, after in (("idle", 0.5), ("rest", args.idle_rest)):
            for server in sorted(servers, key=lambda s: s.ready_at):
                late = time.monotonic() - (server.ready_at + after)
                time.sleep(max(0.0, -late))
                report.memory[server.name][label] = server.rss_kb()
                if label == "rest":
                    report.memory[server.name]["pss_rest"] = server.pss_kb()
                if late > 0.1:
                    note = (f"{server.name}'s idle RSS {after:g} s after its first answer was read {late:.1f} s "
                            "late (the servers after it took that long to start)")
                    log(note)
                    report.notes.append(note)
        cases = self.selected_cases()
        for case in cases:
            report.planned[case["key"]] = args.reps
        skipped = {}
        for case in cases:
            for server in servers:
                try:
                    why = self.check_probe(server, case)
                except (BenchError, OSError) as e:
                    self.fail(f"{case['name']}, {server.name}: {e}")
                    why = "failed"
                if why:
                    skipped[(case["key"], server.name)] = why
                    log(f"{case['name']}, {server.name}: {why}")
        # Warm-up: the JIT compiles the hot path; nginx gets the same, so both start the repetitions alike.
        for server in servers:
            for case in cases:
                if (case["key"], server.name) in skipped:
                    continue
                try:
                    self.wrk(server, case, args.warmup)
                except BenchError as e:
                    self.fail(f"warm-up {case['name']}, {server.name}: {e}")
                    skipped[(case["key"], server.name)] = "failed"
        for rep in range(args.reps):
            for case in cases:
                # Each server goes first as often as the others, so none always runs on a fresher machine.
                turn = (rep + cases.index(case)) % len(servers)
                order = servers[turn:] + servers[:turn]
                for server in order:
                    if (case["key"], server.name) in skipped:
                        continue
                    try:
                        result = self.wrk(server, case, args.duration)
                    except (BenchError, subprocess.TimeoutExpired) as e:
                        self.fail(f"{case['name']}, {server.name}: {e}")
                        skipped[(case["key"], server.name)] = "failed"
                        continue
                    report.add(case, server.name, rep, result)
                    log(f"rep {rep + 1}/{args.reps} {case['key']:8} {server.name:8} {result['rps']:>10.0f} req/s "
                        f"cpu {result['cpu_us']:5.2f} us/req (user {result['user_us']:.2f}) "
                        f"core {result['core_busy'] * 100:3.0f}% p99 "
                        + (f"{result['p99_us']:.0f} us" if result['p99_us'] is not None
                           else "n/a (wrk times batches)" if case.get("batch") else "not reported by wrk")
                        + f" max {result['max_us'] / 1000:.1f} ms" + (" per batch" if case.get("batch") else "")
                        + f", {result['timeouts']} over 2 s")
                    if case.get("memory_peak"):
                        report.memory[server.name]["peak_load"] = max(
                            report.memory[server.name].get("peak_load", 0), result["peak_rss_kb"])
        report.skipped.update(skipped)
        report.cases = cases
        # After the load: give the JVM a moment to settle (it may shrink its heap), then read again.
        time.sleep(2)
        for server in servers:
            report.memory[server.name]["after"] = server.rss_kb()
            report.memory[server.name]["pss_after"] = server.pss_kb()
            report.memory[server.name]["hwm"] = server.rss_kb("VmHWM")
            self.stop(server)

    def keepalive_peak(self, report):
        """RSS of a fresh process under the keep-alive cases alone: 64, then 1,000 connections, twice.

        The throughput part's peak is that of one process that has also served new connections, pipelining
        and the custom-error path, each of which grows its heap and code a little more; a pod behind a
        keep-alive load test sees only this. Sampled every 100 ms, as there.
        """
        cases = {c["key"]: c for c in self.cases()}
        sequence = [cases["ka64"], cases["ka1000"]] * 2
        for make in (lambda: self.backend(extra_jvm=self.image_runtime("image")), self.nginx):
            server = None
            try:
                server = self.started(make())
                time.sleep(0.5)
                before = server.rss_kb()
                peak = 0
                for case in sequence:
                    peak = max(peak, self.wrk(server, case, self.args.duration)["peak_rss_kb"])
                report.keepalive_peak[server.name] = {"before": before, "peak": peak,
                                                      "hwm": server.rss_kb("VmHWM"), "after": server.rss_kb(),
                                                      "pss_after": server.pss_kb()}
                log(f"keep-alive load alone, {server.name}: {before / 1024:.1f} MiB before, "
                    f"peak {peak / 1024:.1f} MiB")
            except (BenchError, OSError, subprocess.TimeoutExpired) as e:
                self.fail(f"keep-alive load alone{', ' + server.name if server else ''}: {e}")
            finally:
                if server:
                    self.stop(server)

    def scaling(self, report):
        """CPU time per request as the keep-alive connections grow, at about the same offered load.

        The paced keep-alive case at each count of --scaling-connections, each connection pausing count/64
        ms after every answer (1 ms at 64, as in the paced case; 16 ms at 1,000): the offered load stays
        near the same, and what grows is how many connections' state a server goes through in turn, and so
        how much of it is still in the core's caches when a connection's next request comes. One process
        of each server for all counts; both interleaved, alternating which goes first.
        """
        base = {c["key"]: c for c in self.cases()}["ka64paced"]
        servers = []
        try:
            servers.append(self.started(self.backend(extra_jvm=self.image_runtime("image"))))
            servers.append(self.started(self.nginx()))
            for server in servers:
                self.wrk(server, base, self.args.warmup)
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            for count in self.args.scaling_connections:
                if count > soft - 100:
                    # wrk holds one descriptor per connection; run.sh raises the limit to the hard one.
                    note = f"scaling: {count} connections left out, over the open-files limit ({soft})"
                    log(note)
                    report.notes.append(note)
                    continue
                pause = max(1, round(count / 64))
                case = dict(base, name=f"{count} connections, {pause} ms pause", key=f"scaling{count}",
                            connections=count, script_args=[str(pause)])
                report.scaling.append((count, pause, case["key"]))
                # A new set of connections: their set-up is compiled and settled before the count is measured.
                self.interleaved(report, servers, case, min(2, self.args.warmup), self.args.scaling_reps,
                                 self.args.scaling_duration, f"scaling {count:5} conn")
        except (BenchError, OSError, subprocess.TimeoutExpired) as e:
            self.fail(f"scaling: {e}")
        finally:
            for server in servers:
                self.stop(server)

    def tail(self, report):
        """The latency tail of the flat-out 1,000-connection case, in runs of two lengths.

        Every wrk run opens its 1,000 connections at once as it starts, and the requests that wait behind
        those set-ups are about a percent of an 8 s run, the throughput part's: its p99 there is partly what
        a server takes to accept 1,000 connections at once. The same case in runs of each of
        --tail-durations (default 8 and 30 s), both servers interleaved, with the percentiles above p99
        (bench/percentiles.lua), tells that start from steady traffic. Each server is first warmed up on the
        new-connection case, which compiles the connection set-up, then on the case itself.
        """
        by_key = {c["key"]: c for c in self.cases()}
        case = dict(by_key["ka1000"], script=os.path.join(HERE, "percentiles.lua"), percentiles=True)
        case.pop("memory_peak", None)
        servers = []
        try:
            servers.append(self.started(self.backend(extra_jvm=self.image_runtime("image"))))
            servers.append(self.started(self.nginx()))
            for server in servers:
                self.wrk(server, by_key["close"], self.args.warmup)
                self.wrk(server, case, self.args.warmup)
            for duration in self.args.tail_durations:
                run = dict(case, name=f"{duration} s runs", key=f"tail{duration}")
                report.tail.append((duration, run["key"]))
                self.interleaved(report, servers, run, 0, self.args.tail_reps, duration, f"tail {duration:3} s")
        except (BenchError, OSError, subprocess.TimeoutExpired) as e:
            self.fail(f"tail: {e}")
        finally:
            for server in servers:
                self.stop(server)

    def interleaved(self, report, servers, case, warmup, reps, duration, label):
        """Warms every server up on `case` (unless `warmup` is 0), then runs it on each `reps` times into the
        report, the one to go first turning round with each repetition, so that a burst of noise from the rest
        of the machine lands on all of them."""
        report.planned[case["key"]] = reps
        for server in servers:
            if warmup:
                self.wrk(server, case, warmup)
        for rep in range(reps):
            first = rep % len(servers)
            for server in servers[first:] + servers[:first]:
                result = self.wrk(server, case, duration)
                report.add(case, server.name, rep, result)
                tail = (f" p99.9 {result['p999_us'] / 1000:.1f} ms max {result['max_us'] / 1000:.1f} ms"
                        if result["p999_us"] is not None else "")
                log(f"{label} {server.name:8} {result['rps']:>8.0f} req/s "
                    f"user {result['user_us']:.2f} sys {result['sys_us']:.2f} us/req{tail}")

    def floor(self, report):
        """How much of the server's cost per request is the transport's and how much its HTTP layer's.

        Our server, nginx and bench/FloorServer.java, which is Netty's epoll transport answering every read
        with fixed bytes and nothing else (no decoding, no routing), with the same JVM, flags and native
        library as ours (no AOT cache: it changes start-up, not a warmed-up request), interleaved as in the
        throughput part, on the transport ours runs on (epoll, or io_uring by --server-arg). The floor's CPU
        per request is what any server on this transport pays; ours above it is Netty's request decoder and
        the routing handler. The keep-alive cases of --cases that it can
        serve (one request per read), by default 64 and 1,000 connections. With X-Code and `proxied` it gets
        their requests and answers them as any other read, with the 404: what the transport pays for those
        requests, not for their answers."""
        wanted = [key for key in self.args.cases if key in FLOOR_CASES] or list(FLOOR_DEFAULT_CASES)
        cases = [c for c in self.cases() if c["key"] in wanted]
        servers = []
        try:
            classes = self.floor_classes(report)
            if classes is None:
                return
            servers.append(self.started(self.backend(extra_jvm=self.image_runtime("image"))))
            report.floor_transport = self.floor_transport()
            port = free_port()
            servers.append(self.started(Server("floor", [self.java] + list(self.jvm_flags) + self.library_path(
                self.args.jar) + ["-cp", self.args.jar + os.pathsep + classes, "FloorServer", str(port),
                                  report.floor_transport], port, self.tmp)))
            servers.append(self.started(self.nginx()))
            for case in cases:
                case = dict(case, key="floor-" + case["key"])
                report.floor.append((case["name"], case["key"]))
                self.interleaved(report, servers, case, self.args.warmup, self.args.reps, self.args.duration,
                                 f"floor {case['name']:30}")
        except (BenchError, OSError, subprocess.TimeoutExpired) as e:
            self.fail(f"floor: {e}")
        finally:
            for server in servers:
                self.stop(server)

    def floor_transport(self):
        """The transport ours runs on, by --server-arg (--transport io_uring), for the floor to run on too."""
        args = list(self.args.server_arg)
        transport = "epoll"
        for i, arg in enumerate(args):
            name, _, value = arg.lstrip("-").partition("=")
            if name == "transport":
                transport = value if value else (args[i + 1] if i + 1 < len(args) else "")
        return "io_uring" if transport.strip().lower() == "io_uring" else "epoll"

    def floor_classes(self, report):
        """Compiles FloorServer.java against the server's jar with the JDK's javac; None, noted, without one."""
        javac = os.path.join(os.path.dirname(os.path.realpath(self.java)), "javac")
        if not os.path.exists(javac):
            note = f"floor: left out, no javac beside {self.java}"
            log(note)
            report.notes.append(note)
            return None
        classes = os.path.join(self.tmp, "floor-classes")
        result = subprocess.run([javac, "--release", "17", "-cp", self.args.jar, "-d", classes, FLOOR_SERVER],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise BenchError(f"javac FloorServer.java exited {result.returncode}:\n{result.stderr.strip()}")
        return classes

    def allocation(self, report):
        """Bytes the server allocates per request, case by case, from the collector's own accounts.

        A fresh process with the image's runtime, the collector's log (-Xlog:gc+heap) added and nothing
        else: each case is warmed up, then run once, and the young generation's use before each collection
        in the run, less its use after the one before, is what that run allocated. What is still in eden
        at either end is not counted: at most one young generation (about 1 MiB with the image's flags) per
        run. Pipelining and the custom-error path are here because a per-request allocation that creeps in
        shows here first: the collections it brings cost little CPU each but stop every connection at once.
        """
        log_path = os.path.join(self.tmp, "alloc-gc.log")
        server = None
        try:
            server = self.started(self.backend(
                "allocation", extra_jvm=self.image_runtime("image") + [f"-Xlog:gc+heap=info:file={log_path}"]))
            gc_log = YoungCollections(log_path)
            for case in self.selected_cases():
                if case.get("paced"):
                    continue  # the same requests as its unpaced case: the same bytes per request
                why = self.check_probe(server, case)
                if why:
                    report.allocation.append((case["name"], None, 0, 0, why))
                    continue
                self.wrk(server, case, self.args.warmup)
                gc_log.read()  # collections so far belong to the warm-up
                requests = self.wrk(server, case, self.args.duration)["requests"]
                allocated, collections = gc_log.read()
                if collections == 0:
                    per_request, why = None, "no collection in the run (too short to tell)"
                else:
                    per_request, why = allocated / requests, ""
                report.allocation.append((case["name"], per_request, collections, requests, why))
                figure = why or f"{per_request:6.0f} B/req"
                log(f"allocation {case['key']:8} {figure}, {collections} young collections, {requests} requests")
        except (BenchError, OSError, subprocess.TimeoutExpired) as e:
            self.fail(f"allocation: {e}")
        finally:
            if server:
                self.stop(server)

    def idle_connections(self, report):
        count = self.args.idle_connections
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if count > soft - 100:
            # The client holds one descriptor per connection; run.sh raises the limit to the hard one.
            count = soft - 100
            note = f"idle connections capped at {count} by the open-files limit ({soft})"
            log(note)
            report.notes.append(note)
        self.args.idle_connections = count
        # Both keep idle connections for two minutes here, so that none expires while the others open.
        # A 64 MiB pod's heap holds about 4,000 connections, and the server caps connections at what its
        # heap holds; 10,000 need a pod sized for them, so this case runs as in a 160 MiB pod.
        runtime = self.image_runtime("image")
        ours_args = ["--idle-timeout", "2m", "--max-connections", str(count + 100)]
        ours_jvm = ["-XX:MaxRAM=160m"]
        # What each runs with here beyond the report's header, named in the table: the later -XX:MaxRAM
        # overrides the header's.
        report.idle_settings = {"backend": " ".join(ours_jvm + ours_args), "nginx": "keepalive_timeout 120s"}
        makers = (("backend", lambda: self.backend(server_args=ours_args, extra_jvm=runtime + ours_jvm)),
                  ("nginx", lambda: self.nginx("120s")))
        for name, make in makers:
            try:
                server = self.started(make())
            except BenchError as e:
                # A failure, but the parts already measured are still printed.
                self.fail(f"{count} idle connections, {name}: {e}")
                continue
            try:
                time.sleep(0.3)
                before = server.rss_kb()
                # The server's own sockets (listening ports, the JVM's or nginx's internal ones), so that only
                # the connections' are compared with the count below.
                sockets_before = server.open_sockets()
                held, seconds = hold_connections(server.port, count)
                try:
                    time.sleep(0.5)
                    # /healthz must keep answering while every connection is held.
                    status, _, body = http_get(server.port, "/healthz")
                    if status != 200 or body != b"ok":
                        raise BenchError(f"/healthz answered {status} with {count} idle connections")
                    rss = server.rss_kb()
                    # And once settled: a burst of 10,000 connects makes a JIT compile the accept path right
                    # then, and its transient memory is still counted half a second later.
                    time.sleep(self.args.idle_settle)
                    rss_settled = server.rss_kb()
                    pss_settled = server.pss_kb()
                    sockets = server.open_sockets() - sockets_before
                    if sockets < count:
                        raise BenchError(f"only {sockets} sockets opened in the server for {count} connections")
                    # Every held connection must still be usable: they really are kept alive. The oldest first,
                    # as the first to expire; all of them take about a second for 10,000.
                    for i, s in enumerate(held):
                        if not healthz_on(s):
                            raise BenchError(f"held keep-alive connection {i + 1} of {count} did not answer")
                finally:
                    for s in held:
                        s.close()
                report.idle[server.name] = {"before": before, "with": rss, "settled": rss_settled,
                                            "pss_settled": pss_settled,
                                            "open_s": seconds, "sockets": sockets, "sockets_before": sockets_before}
                log(f"{count} idle connections, {server.name}: {before / 1024:.1f} -> {rss / 1024:.1f} MiB, "
                    f"{rss_settled / 1024:.1f} MiB {self.args.idle_settle:g} s later")
            except (BenchError, OSError) as e:
                self.fail(f"{count} idle connections, {server.name}: {e}")
            finally:
                self.stop(server)

    def startup(self, report):
        """Time from process start to the first /healthz 200, for each runtime, flags and archive."""
        jdk17 = self.args.java17
        variants = []
        if jdk17:
            major = java_major(jdk17)
            flags17, _ = self.flags_for(major)
            variants += [(f"JDK {major}, no flags", jdk17, [], None),
                         (f"JDK {major}, bench flags", jdk17, flags17, None),
                         (f"JDK {major}, bench flags + AppCDS", jdk17, flags17, "appcds")]
        if os.path.exists(TEMURIN_25):
            flags25, source25 = self.flags_for(25)
            label = "image flags" if source25.startswith("@") else "bench flags"
            variants += [("Temurin 25, no flags", TEMURIN_25, [], None),
                         (f"Temurin 25, {label}", TEMURIN_25, flags25, None),
                         (f"Temurin 25, {label} + AOT cache", TEMURIN_25, flags25, "aot")]
        else:
            log(f"startup: {TEMURIN_25} not found: the JDK 25 variants are skipped")
            report.notes.append(f"Temurin 25 not found at {TEMURIN_25}: its start-up variants were skipped.")
        for name, java, flags, archive in variants:
            extra = []
            try:
                if archive:
                    extra = self.train(name, java, flags, archive)
                times, rss = [], []
                for _ in range(self.args.startup_reps):
                    ms, kb = self.timed_start(self.backend(name, java=java, flags=flags, extra_jvm=extra))
                    times.append(ms)
                    rss.append(kb)
                report.startup.append((name, times, rss))
                log(f"startup {name}: {statistics.median(times):.0f} ms")
            except (BenchError, OSError) as e:
                self.fail(f"startup {name}: {e}")
        times, rss = [], []
        try:
            for _ in range(self.args.startup_reps):
                ms, kb = self.timed_start(self.nginx())
                times.append(ms)
                rss.append(kb)
            report.startup.append(("nginx", times, rss))
        except (BenchError, OSError) as e:
            self.fail(f"startup nginx: {e}")

    def timed_start(self, server):
        """Starts the server and stops it again: the milliseconds from its start to its first /healthz 200, and
        its RSS then (kB). Stopped whatever happened, so that the next start-up has the core to itself."""
        self.running.append(server)
        try:
            server.start()
            ms = server.wait_ready() * 1000
            return ms, server.rss_kb()
        finally:
            self.stop(server)

    def warm_up(self, report):
        """Throughput and p99 in consecutive one-second slices from the first 200: how soon a fresh process is
        at speed, and how soon its tail is.

        The image runs C2 without tiers, so its first requests are interpreted; this shows for how long. Each
        slice is a wrk run of its own, so its 64 connections close at the end of it and the next slice opens
        new ones: the churn a pod behind ingress-nginx sees too (it closes an upstream connection after a set
        number of requests). The first closes after the hot path is compiled take branches its compiled code
        never saw, which throws that code away (deoptimisation) to be compiled again while it serves, on the
        same core: the req/s are at speed from the third second, the p99 later and less steadily
        (bench/RESULTS.md).
        """
        case = {"connections": 64, "path": "/", "status_over_399": True}
        variants = [("backend, image flags", lambda: self.backend("warm-up")),
                    ("nginx", self.nginx)]
        try:
            extra = self.image_cache("warm-up")
            if extra:
                variants.insert(1, ("backend, image flags + AOT cache",
                                    lambda: self.backend("warm-up aot", extra_jvm=extra)))
        except (BenchError, OSError) as e:
            self.fail(f"warm-up: AOT training: {e}")
        for name, make in variants:
            slices = []
            try:
                for _ in range(self.args.warmup_reps):
                    server = self.started(make())
                    try:
                        slices.append([self.wrk(server, case, 1) for _ in range(self.args.warmup_slices)])
                    finally:
                        self.stop(server)
                report.warmup.append((name, slices))
                log(f"warm-up {name}: req/s " + ", ".join(median_rps(s) for s in zip(*slices))
                    + "; p99 us " + ", ".join(p99s(s) for s in zip(*slices)))
            except (BenchError, OSError) as e:
                self.fail(f"warm-up {name}: {e}")

    def train(self, name, java, flags, archive, jar=None):
        """A training run that writes the archive at exit, as an image build would; returns the flags to use it.

        One training per JVM, flags, kind of archive and jar: the parts share it.
        """
        key = (java, tuple(flags), archive, jar)
        if key not in self.trained:
            self.trained[key] = self.train_once(name, java, flags, archive, jar)
        return self.trained[key]

    def image_cache(self, name, jar=None):
        """The flags that add an AOT cache, trained as the image's build trains its own, to the image's JVM
        flags; none where there is no such cache to have (before JDK 25, or without the image's argfiles)."""
        if self.java_major < 25 or not self.flags_source.startswith("@"):
            return []
        return self.train(name, self.java, self.jvm_flags, "aot", jar)

    def image_runtime(self, name, jar=None):
        """The image's runtime for the throughput and memory parts: its flags and, unless --no-aot-cache,
        its AOT cache, as the image runs with one made at build time."""
        if self.args.no_aot_cache:
            return []
        flags = self.image_cache(name, jar)
        self.aot_used = bool(flags)
        return flags

    def train_once(self, name, java, flags, archive, jar=None):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
        if archive == "aot":
            return self.train_as_image(slug, java, flags, os.path.join(self.tmp, f"{slug}.aot"), jar)
        # AppCDS, for JDK 17: an archive of the classes a short run of the paths a real pod takes loaded.
        path = os.path.join(self.tmp, f"{slug}.jsa")
        server = self.started(self.backend(f"{name} training", java=java, flags=flags,
                                           extra_jvm=[f"-XX:ArchiveClassesAtExit={path}"], jar=jar))
        try:
            for target, headers in (("/", {}), ("/healthz", {}),
                                    ("/", {"X-Code": "503", "Accept": "application/json"}),
                                    ("/x?y=1", {"Connection": "close"})):
                http_get(server.port, target, headers)
            self.wrk(server, {"connections": 4, "path": "/", "status_over_399": True}, 1)
        finally:
            self.stop(server)
        if not os.path.exists(path):
            raise BenchError(f"the training run wrote no archive at {path}; see {server.log_path}:\n"
                             f"{server.tail_log()}")
        # Fail rather than silently measure without the archive.
        return [f"-XX:SharedArchiveFile={path}", "-Xshare:on"]

    def train_as_image(self, slug, java, flags, path, jar=None):
        """The AOT cache made as the image's build makes it: its training program (docker/aot/AotTraining.java,
        in source-file mode) drives the server with the same traffic and recording flags, so that the cache
        holds the same classes, and the server then runs with the ENTRYPOINT's cache flags."""
        jar = jar or self.args.jar
        server = ([java] + list(flags) + IMAGE_AOT_FLAGS + ["-XX:-AOTRecordTraining", f"-XX:AOTCacheOutput={path}"]
                  + self.library_path(jar) + ["-jar", jar])
        log_path = os.path.join(self.tmp, f"{slug}_training.log")
        with open(log_path, "wb") as out:
            try:
                result = run_group([java, AOT_TRAINING, path] + server, 300, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise BenchError(f"the AOT training run took over 300 s; see {log_path}")
        if result.returncode != 0 or not os.path.exists(path):
            raise BenchError(f"the AOT training run exited {result.returncode}; see {log_path}:\n{tail(log_path)}")
        return [f"-XX:AOTCache={path}", "-XX:AOTMode=on"] + IMAGE_AOT_FLAGS + ["-XX:-AOTReplayTraining"]


class YoungCollections:
    """Reads a JVM's -Xlog:gc+heap file as it grows: each young collection's "DefNew: 1024K(1152K)->96K(1152K)"
    (Serial; "PSYoungGen", "ParNew" likewise) gives the young generation's use before and after it."""

    LINE = re.compile(r"GC\(\d+\) (?:DefNew|PSYoungGen|ParNew): (\d+)K\(\d+K\)->(\d+)K\(\d+K\)")

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.after_kb = 0  # the young generation's use after the last collection read

    def read(self):
        """Bytes allocated in the young generation between the last collection read before and the last one
        in the new lines, and how many collections those lines hold."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        # Only whole lines: the JVM may be writing the next one.
        end = data.rfind(b"\n") + 1
        self.offset += end
        allocated_kb = 0
        collections = 0
        for match in self.LINE.finditer(data[:end].decode("utf-8", "replace")):
            before, after = int(match.group(1)), int(match.group(2))
            allocated_kb += max(0, before - self.after_kb)
            self.after_kb = after
            collections += 1
        return allocated_kb * 1024, collections


def healthz_on(s):
    """Sends /healthz on an open keep-alive connection; whether a whole 200 "ok" comes back."""
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
        response = b""
        while not (b"\r\n\r\n" in response and response.endswith(b"ok")):
            chunk = s.recv(512)
            if not chunk:
                return False
            response += chunk
        return response.startswith(b"HTTP/1.1 200 ")
    except OSError:
        return False


def hold_connections(port, count):
    """Opens `count` keep-alive connections, each answered once, and returns them with the time it took."""
    start = time.monotonic()
    held = []
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5.0)
            held.append(s)
            s.sendall(request)
            response = b""
            while not response.endswith(NOT_FOUND_BODY):
                chunk = s.recv(512)
                if not chunk:
                    raise BenchError(f"connection {len(held)} closed by the server")
                response += chunk
    except BaseException:
        for s in held:
            s.close()
        raise
    return held, time.monotonic() - start


WRK_UNITS = {"us": 1, "ms": 1000, "s": 1000000}


def parse_wrk(out):
    def number(pattern, default=None):
        match = re.search(pattern, out)
        if not match:
            if default is None:
                raise BenchError(f"cannot read wrk's output ({pattern}):\n{out}")
            return default
        return match

    requests = number(r"(\d+) requests in ([\d.]+)(\w+)")
    seconds = float(requests.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[requests.group(3)]
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if match:
        errors = dict(zip(errors, map(int, match.groups())))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(percent):
        m = number(rf"\s{percent}%\s+([\d.]+)(us|ms|s)\b")
        return float(m.group(1)) * WRK_UNITS[m.group(2)]

    # wrk's "Latency avg stdev max" line: the slowest request that completed within wrk's timeout.
    slowest = number(r"Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)\b")
    p99 = latency(99)
    if p99 <= 0 or p99 < latency(90):
        # A 99th percentile of 0, or below the 90th, is broken: reported as missing rather than as 0. It was
        # seen in the pipelined case, where wrk records one latency per 16-request batch and corrects them for
        # coordinated omission with an interval 16 times too short (bench/pipeline.lua); that case's
        # percentiles are now dropped whatever they are (Bench.wrk), and this stays for any other case.
        p99 = None
    # bench/percentiles.lua's line, when the case runs it: the percentiles --latency leaves out.
    extra = {}
    line = re.search(r"percentiles \(us\): (.*)", out)
    if line:
        extra = {float(k): float(v) for k, v in (pair.split("=") for pair in line.group(1).split())}
    return {
        "p90_us": extra.get(90.0),
        "p999_us": extra.get(99.9),
        "p9999_us": extra.get(99.99),
        "requests": int(requests.group(1)),
        "seconds": seconds,
        "rps": float(number(r"Requests/sec:\s+([\d.]+)").group(1)),
        "p50_us": latency(50),
        "p99_us": p99,
        "max_us": float(slowest.group(1)) * WRK_UNITS[slowest.group(2)],
        "timeouts": errors["timeout"],
        "errors": errors,
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def median_range(values, fmt="{:.0f}", planned=None, spread=True):
    """Median (min-max) of the values; "-" for none. With `planned`, the repetitions there were: when fewer
    values than that exist (wrk printed no such figure in some runs), "k of n" is added, so that a median of one
    run of five does not read as a median of five."""
    if not values:
        return "-"
    text = fmt.format(statistics.median(values))
    detail = []
    if spread and len(values) > 1:
        detail.append(fmt.format(min(values)) + "-" + fmt.format(max(values)))
    if planned and len(values) < planned:
        detail.append(f"{len(values)} of {planned}")
    if detail:
        text += " (" + ", ".join(detail) + ")"
    return text


def median_rps(results):
    """The median req/s of one slice's runs."""
    return f"{statistics.median(r['rps'] for r in results):.0f}"


def p99s(results):
    """The median p99 of one slice's runs, in µs; "k of n" where wrk printed none in some of them."""
    return median_range([r["p99_us"] for r in results if r["p99_us"] is not None], planned=len(results),
                        spread=False)


def batch_na(case):
    """What the report gives for a latency of a case that wrk times per batch (bench/pipeline.lua)."""
    return f"n/a: wrk times {case['batch']}-request batches"


def ratio_cell(ratios, higher_is_better=False, planned=None):
    """Median (min-max) of per-repetition ratios ours/theirs, then in how many of the repetitions ours did better
    (k/n): a median of 1.00 with 9/12 says more than one with 6/12, on a machine whose speed moves between runs.
    With `planned`, "(k of n)" follows when only k of the n repetitions gave both figures."""
    if not ratios:
        return "-"
    ahead = sum(1 for r in ratios if (r > 1.0 if higher_is_better else r < 1.0))
    partial = f" ({len(ratios)} of {planned})" if planned and len(ratios) < planned else ""
    return f"{median_range(ratios, '{:.2f}')}, {ahead}/{len(ratios)}{partial}"


# The confidence of each bound the targets table gives for a median ratio.
CONFIDENCE = 0.95


def median_bounds(values, confidence=CONFIDENCE):
    """Distribution-free one-sided confidence bounds for the median of what the values were drawn from, as
    (low, high, coverage): the median is at least `low`, the k-th smallest value, with probability `coverage`,
    and at most `high`, the k-th largest, with the same probability, for the largest k whose coverage
    1 - P(B < k), B ~ Binomial(n, 1/2), is at least `confidence`: whatever the distribution, each value is below
    the median with probability 1/2, independently. (Together they bound the median with 1 - 2 P(B < k).) No
    normality is assumed, which run-to-run figures on a shared machine do not have: one slow run in twelve is
    common. A target asks one side ("at most nginx's"), so each verdict reads one bound. With too few values for
    the confidence (fewer than 5 for 95 %), the smallest and the largest value and their smaller coverage; None
    for no values."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return None

    def coverage(k):
        return 1.0 - sum(math.comb(n, i) for i in range(k)) / 2 ** n

    k = 1
    while k + 1 <= (n + 1) // 2 and coverage(k + 1) >= confidence:
        k += 1
    return xs[k - 1], xs[n - k], coverage(k)


def target_verdict(ratios, higher_is_better=False, confidence=CONFIDENCE):
    """Whether per-repetition ratios ours/theirs meet a target of "at most theirs" (or, higher_is_better, "at
    least theirs"), from the median ratio's bounds (`median_bounds`): "met" when the bound on the target's side
    is on that side of 1 (1 itself included: the target allows equality), "not met" when the other bound is on
    the other side, and otherwise "not resolved": parity within the noise, which more repetitions may or may
    not separate. Too few repetitions for the confidence also give "not resolved"."""
    bounds = median_bounds(ratios, confidence)
    if bounds is None:
        return "-"
    low, high, covered = bounds
    if covered < confidence:
        count = "1 repetition is" if len(ratios) == 1 else f"{len(ratios)} repetitions are"
        return f"not resolved: {count} too few for {confidence:.0%}"
    if higher_is_better:
        low, high = 1.0 / high if high else math.inf, 1.0 / low if low else math.inf
    if high <= 1.0:
        return "met"
    if low > 1.0:
        return "not met"
    return "not resolved"


def bounds_cell(ratios, confidence=CONFIDENCE):
    """"low-high (coverage)": the median ratio's one-sided bounds (`median_bounds`); "-" for none."""
    bounds = median_bounds(ratios, confidence)
    if bounds is None:
        return "-"
    low, high, covered = bounds
    return f"{low:.2f}-{high:.2f} ({covered:.1%} each)"


class Report:
    def __init__(self, args, bench):
        self.args = args
        self.bench = bench
        self.results = {}  # (case key, server) -> {rep: result}
        self.planned = {}  # case key -> the repetitions planned, against which a figure's count is shown
        self.memory = {"backend": {}, "baseline": {}, "nginx": {}}
        self.idle = {}
        self.idle_settings = {}  # server -> the flags or settings the idle part adds for it
        self.keepalive_peak = {}  # server -> RSS before, sampled peak, VmHWM, after (kB)
        self.scaling = []  # (connections, pause ms, case key), in order; the runs are in results
        self.tail = []  # (run length s, case key), in order; the runs are in results
        self.floor = []  # (case name, case key), in order; the runs are in results
        self.floor_transport = "epoll"  # the transport the floor ran on, ours by --server-arg
        self.allocation = []  # (case, bytes per request or None, young collections, requests, why not)
        self.startup = []
        self.warmup = []  # (variant, [[wrk's result per one-second slice] per start])
        self.skipped = {}
        self.cases = []
        self.notes = []

    def add(self, case, server, rep, result):
        self.results.setdefault((case["key"], server), {})[rep] = result

    def values(self, key, server, field):
        """The field's value in each run that has one: a run whose wrk printed no such figure is left out, so
        the tables print how many of the planned repetitions a median is over (`cell`, `ratio`)."""
        return [r[field] for r in self.results.get((key, server), {}).values() if r[field] is not None]

    def cell(self, key, server, field, fmt="{:.0f}", scale=1.0, spread=True):
        """Median (min-max) of a field over the runs, "(k of n)" when only k of the n planned runs gave it."""
        return median_range([v / scale for v in self.values(key, server, field)], fmt, self.planned.get(key),
                            spread)

    def ratio(self, key, field, server="backend", to="nginx", higher_is_better=False):
        """The ratio cell of a field, "(k of n)" when only k of the n planned repetitions gave both figures."""
        return ratio_cell(self.ratios(key, field, server, to), higher_is_better, self.planned.get(key))

    def ratios(self, key, field, server="backend", to="nginx"):
        ours = self.results.get((key, server), {})
        theirs = self.results.get((key, to), {})
        return [ours[rep][field] / theirs[rep][field] for rep in ours
                if rep in theirs and theirs[rep][field] and ours[rep][field] is not None]

    # Issue 6's targets against nginx in the throughput part: CPU per request at most nginx's where the issue asks
    # it (keep-alive 64 and 1,000, pipelined), throughput at least nginx's in every case the client does not pace,
    # and p99 at most nginx's in every case that has a per-request p99 (not pipelining).
    CPU_TARGET_CASES = ("ka64", "ka1000", "pipe16")

    def warmup_tables(self):
        """The warm-up part's two tables, req/s and p99 in each one-second slice, median over the starts."""
        if not self.warmup:
            return []
        out = []
        slices = max(len(s) for _, runs in self.warmup for s in runs)
        heads = " | ".join(f"{i + 1}." for i in range(slices))
        for title, cell in (("req/s", median_rps), ("p99 µs", p99s)):
            out.append(f"| warm-up: {title} in each second from the first 200 (keep-alive 64, new connections each "
                       f"second), median of {self.args.warmup_reps} start(s) | {heads} |")
            out.append("|---|" + "---|" * slices)
            for name, runs in self.warmup:
                out.append(f"| {name} | " + " | ".join(cell(s) for s in zip(*runs)) + " |")
            out.append("")
        return out

    def targets(self):
        """The lines of the targets table (none without throughput cases): each target and case, the median of the
        per-repetition ratios, its one-sided bounds, k/n and the verdict (`target_verdict`); "-" where no
        repetition gave both servers' figures."""
        rows = []
        for case in self.cases:
            key = case["key"]
            if self.skipped.get((key, "backend")) or self.skipped.get((key, "nginx")):
                continue
            name = case["name"]
            if key in self.CPU_TARGET_CASES:
                rows.append(("CPU per request at most nginx's", name, self.ratios(key, "cpu_us"), False))
            if not case.get("paced"):
                # Paced, the client sets the rate (each connection pauses after every answer): no target.
                rows.append(("req/s at least nginx's", name, self.ratios(key, "rps"), True))
            if not case.get("batch"):
                load = "the same offered load" if case.get("paced") else "flat out, each server its own load"
                rows.append((f"p99 at most nginx's ({load})", name, self.ratios(key, "p99_us"), False))
        if not rows:
            return []
        out = [f"Issue 6's targets, judged on the median of the per-repetition ratios backend/nginx and its "
               f"distribution-free one-sided {CONFIDENCE:.0%} bounds (the k-th smallest and the k-th largest ratio, "
               "k from the binomial distribution, each bound's coverage in brackets): met when the bound on the "
               "target's side is on that side of 1, not met when the other bound is on the other side, otherwise "
               "not resolved (parity within this run's noise). Repetitions needed: at least 5. Read with care: "
               "each row is judged on its own, so about one row in twenty judged met or not met may be so by "
               "chance, and the bounds take the repetitions as alike, while which server runs first alternates.",
               "",
               "| target | case | ratio, median | bounds (coverage) | better in | verdict |",
               "|---|---|---|---|---|---|"]
        for target, name, ratios, higher_is_better in rows:
            if not ratios:
                out.append(f"| {target} | {name} | - | - | - | - |")
                continue
            ahead = sum(1 for r in ratios if (r > 1.0 if higher_is_better else r < 1.0))
            out.append(f"| {target} | {name} | {statistics.median(ratios):.2f} | {bounds_cell(ratios)} | "
                       f"{ahead}/{len(ratios)} | {target_verdict(ratios, higher_is_better)} |")
        out.append("")
        return out

    def servers(self):
        """The servers of the throughput part, in table order: ours, the baseline build if any, nginx."""
        return [s for s in ("backend", "baseline", "nginx") if s != "baseline" or self.args.baseline_jar]

    def print(self):
        args = self.args
        out = []
        out.append(f"## Results: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        out.append("")
        out.append(f"- command: `{' '.join(['bench/run.sh'] + args.argv)}`")
        out.append(f"- backend: `{self.bench.java}` (JDK {self.bench.java_major}), {self.bench.flags_source}: "
                   f"`{' '.join(self.bench.jvm_flags)}`"
                   + ("; throughput and memory with an AOT cache trained as the image's build does"
                      if self.bench.aot_used else "; no AOT cache"))
        if args.server_arg or args.baseline_server_arg:
            baseline = f", baseline `{' '.join(args.baseline_server_arg) or '(none)'}`" if args.baseline_jar else ""
            out.append(f"- server flags: backend `{' '.join(args.server_arg) or '(none)'}`{baseline}")
        out.append(f"- nginx: `{nginx_version(args.nginx)}`, 1 worker, access log off; wrk `-t1`, "
                   f"{args.duration} s per run, {args.reps} repetition(s) after a {args.warmup} s warm-up per case")
        out.append(f"- server on core {SERVER_CORE}, wrk on core {CLIENT_CORE}; load average at the end: "
                   f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        out.append("- in every table, \"(k of n)\" after a median or a ratio: it is over only k of the n repetitions, "
                   "wrk having printed no such figure in the others; \"-\": in none")
        out.append("")
        if self.cases:
            out.append("Medians (min-max) over the repetitions; ratio = median (min-max) of per-repetition "
                       "backend/nginx, then k/n = the repetitions in which the backend did better (more req/s, less "
                       "CPU, lower p99). " + P99_LEGEND + " "
                       "CPU = server user+system time per request; core = share of the server's core in use; "
                       "max = the slowest request answered, over 2 s = requests wrk gave up on (all repetitions). "
                       "Pipelined: wrk times each write of 16 requests, not each request, so that case has no p50 or "
                       "p99 for any server, and its max is the slowest batch, from its write to its last answer. "
                       "Paced: each connection pauses after every answer, so both servers get the same "
                       "offered load, below saturation.")
            out.append("")
            out.append("| case | server | req/s | ratio | CPU µs/req (user + sys) | ratio | req per CPU-s | core | "
                       "p50 µs | p99 µs | p99 ratio | max ms | over 2 s |")
            out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for case in self.cases:
                for server in self.servers():
                    why = self.skipped.get((case["key"], server))
                    if why:
                        out.append(f"| {case['name']} | {server} | {why} | | | | | | | | | | |")
                        continue
                    key = case["key"]
                    planned = self.planned.get(key)
                    cpu = self.values(key, server, "cpu_us")
                    ours = server != "nginx"
                    ratio_rps = self.ratio(key, "rps", server, higher_is_better=True) if ours else ""
                    ratio_cpu = self.ratio(key, "cpu_us", server) if ours else ""
                    ratio_p99 = self.ratio(key, "p99_us", server) if ours else ""
                    per_cpu_s = median_range([1e6 / c for c in cpu if c], planned=planned)
                    p50 = self.cell(key, server, "p50_us")
                    p99 = self.cell(key, server, "p99_us")
                    slowest = self.cell(key, server, "max_us", "{:.1f}", 1000.0)
                    if case.get("batch"):
                        # wrk times a write of `batch` requests, not a request (bench/pipeline.lua): no per-request
                        # latency for any server, so no ratio either, and the slowest figure is a batch's.
                        p50 = p99 = batch_na(case)
                        ratio_p99 = "n/a" if ours else ""
                        slowest += " per batch"
                    out.append(
                        f"| {case['name']} | {server} | {self.cell(key, server, 'rps')} | {ratio_rps} | "
                        f"{self.cell(key, server, 'cpu_us', '{:.2f}')} "
                        f"({self.cell(key, server, 'user_us', '{:.2f}', spread=False)} + "
                        f"{self.cell(key, server, 'sys_us', '{:.2f}', spread=False)}) | {ratio_cpu} | "
                        f"{per_cpu_s} | {self.cell(key, server, 'core_busy', scale=0.01)} % | "
                        f"{p50} | {p99} | {ratio_p99} | {slowest} | "
                        f"{sum(self.values(key, server, 'timeouts'))} |")
            out.append("")
            out.extend(self.targets())
            out.append(MEMORY_LEGEND)
            out.append("")
            out.append(f"| memory (MiB) | RSS idle, 0.5 s after its first answer | RSS idle, {self.args.idle_rest:g} s "
                       "after it | PSS then | RSS peak under keep-alive load (sampled) | VmHWM | RSS after load | "
                       "PSS then |")
            out.append("|---|---|---|---|---|---|---|---|")
            for server in self.servers():
                m = self.memory[server]
                out.append(f"| {memory_row(server)} | {mib(m.get('idle'))} | {mib(m.get('rest'))} | "
                           f"{mib(m.get('pss_rest'))} | {mib(m.get('peak_load'))} | {mib(m.get('hwm'))} | "
                           f"{mib(m.get('after'))} | {mib(m.get('pss_after'))} |")
            out.append("")
            if "baseline" in self.servers():
                out.append(f"This build against the baseline (`{self.args.baseline_jar}`), same JVM and JVM flags: "
                           "median (min-max) of the per-repetition ratios backend/baseline, and k/n = the "
                           "repetitions in which the backend did better.")
                out.append("")
                out.append("| case | req/s | CPU µs/req | p99 |")
                out.append("|---|---|---|---|")
                for case in self.cases:
                    out.append(f"| {case['name']} | " + " | ".join(
                        batch_na(case) if field == "p99_us" and case.get("batch")
                        else self.ratio(case["key"], field, "backend", "baseline", field == "rps")
                        for field in ("rps", "cpu_us", "p99_us")) + " |")
                out.append("")
        if self.keepalive_peak:
            if not self.cases:
                out.append(MEMORY_LEGEND)
                out.append("")
            out.append(f"| keep-alive load alone, fresh process: 64 then 1000 connections, twice, {args.duration:g} s "
                       "each (MiB) | RSS before | RSS peak (sampled) | VmHWM | RSS after | PSS after |")
            out.append("|---|---|---|---|---|---|")
            for server, m in self.keepalive_peak.items():
                out.append(f"| {memory_row(server)} | {mib(m['before'])} | {mib(m['peak'])} | {mib(m['hwm'])} | "
                           f"{mib(m['after'])} | {mib(m['pss_after'])} |")
            out.append("")
        if self.scaling:
            out.append(f"Keep-alive connections paced to about the same offered load (each pauses connections/64 ms "
                       f"after every answer): medians of {args.scaling_reps} interleaved {args.scaling_duration:g} s "
                       "runs; ratios are medians of the per-repetition ratios backend/nginx, with k/n = the "
                       "repetitions in which the backend's was lower.")
            out.append("")
            out.append("| connections (pause) | req/s, backend / nginx | user µs/req, backend / nginx | "
                       "sys µs/req, backend / nginx | CPU ratio | user ratio | p99 ratio |")
            out.append("|---|---|---|---|---|---|---|")
            def both(key, field, fmt):
                """The two servers' medians, ours first."""
                return " / ".join(self.cell(key, name, field, fmt, spread=False) for name in ("backend", "nginx"))

            def ratio(key, field):
                """Median (min-max) of the per-repetition ratios, ours to nginx's, and in how many ours was lower."""
                return self.ratio(key, field)

            for count, pause, key in self.scaling:
                out.append(f"| {count} ({pause} ms) | {both(key, 'rps', '{:.0f}')} | "
                           f"{both(key, 'user_us', '{:.2f}')} | {both(key, 'sys_us', '{:.2f}')} | "
                           f"{ratio(key, 'cpu_us')} | {ratio(key, 'user_us')} | {ratio(key, 'p99_us')} |")
            out.append("")
        if self.tail:
            out.append(f"The latency tail at 1,000 keep-alive connections flat out, in runs of each length: medians "
                       f"of {args.tail_reps} interleaved runs, in ms; ratios are medians of the per-run ratios "
                       "(k/n = the runs in which the backend's was lower) "
                       "backend/nginx. A run's first requests wait behind its 1,000 connections' set-up, a larger "
                       "share of a short run. The percentiles are wrk's, after its coordinated-omission correction, "
                       "both servers alike (bench/percentiles.lua reads them after it).")
            out.append("")
            out.append("| run length | req/s, backend / nginx | p50, backend / nginx | p90 | p99 | p99.9 | max | "
                       "p99 ratio | p99.9 ratio | max ratio |")
            out.append("|---|---|---|---|---|---|---|---|---|---|")

            def pair(key, field, fmt="{:.1f}", scale=1000.0):
                return " / ".join(self.cell(key, name, field, fmt, scale, spread=False) for name in ("backend", "nginx"))

            for duration, key in self.tail:
                out.append(f"| {duration} s | {pair(key, 'rps', '{:.0f}', 1.0)} | {pair(key, 'p50_us')} | "
                           f"{pair(key, 'p90_us')} | {pair(key, 'p99_us')} | {pair(key, 'p999_us')} | "
                           f"{pair(key, 'max_us')} | "
                           + " | ".join(self.ratio(key, f)
                                        for f in ("p99_us", "p999_us", "max_us")) + " |")
            out.append("")
        if self.floor:
            out.append(f"The transport's floor (bench/FloorServer.java: Netty's {self.floor_transport} transport "
                       f"answering every read with fixed bytes, no HTTP) beside ours and nginx: medians of {args.reps} interleaved "
                       f"{args.duration:g} s runs; ratios are medians of the per-repetition ratios (k/n = the "
                       "repetitions in which the first server's was lower). What ours "
                       "costs above the floor is its HTTP layer: Netty's request decoder and the routing handler.")
            out.append("")
            out.append("| case | req/s, backend / floor / nginx | CPU µs/req, backend / floor / nginx | "
                       "user µs/req, backend / floor / nginx | CPU ratio to nginx, backend / floor | "
                       "CPU, backend / floor | user, backend / floor | p99 ratio to nginx, backend / floor |")
            out.append("|---|---|---|---|---|---|---|---|")
            names = ("backend", "floor", "nginx")

            def each(key, field, fmt):
                return " / ".join(self.cell(key, name, field, fmt, spread=False) for name in names)

            def ratio(key, field, server, to):
                return self.ratio(key, field, server, to)

            for name, key in self.floor:
                out.append(f"| {name} | {each(key, 'rps', '{:.0f}')} | {each(key, 'cpu_us', '{:.2f}')} | "
                           f"{each(key, 'user_us', '{:.2f}')} | {ratio(key, 'cpu_us', 'backend', 'nginx')} / "
                           f"{ratio(key, 'cpu_us', 'floor', 'nginx')} | {ratio(key, 'cpu_us', 'backend', 'floor')} | "
                           f"{ratio(key, 'user_us', 'backend', 'floor')} | {ratio(key, 'p99_us', 'backend', 'nginx')} / "
                           f"{ratio(key, 'p99_us', 'floor', 'nginx')} |")
            out.append("")
        if self.allocation:
            out.append(f"| allocation, fresh process, one {args.duration:g} s run per case after its warm-up "
                       "(-Xlog:gc+heap) | bytes per request | young collections | requests |")
            out.append("|---|---|---|---|")
            for name, per_request, collections, requests, why in self.allocation:
                figure = why if per_request is None else f"{per_request:.0f}"
                out.append(f"| {name} | {figure} | {collections} | {requests} |")
            out.append("")
        if self.idle:
            out.append(f"{args.idle_connections} idle keep-alive connections, each answered once and then held, "
                       "with /healthz answering meanwhile and on every one of them at the end. Each server runs "
                       "with what the settings column adds to the header's flags, so that none expires while the "
                       "others open and ours admits them all (a 64 MiB pod's heap holds about 4,000 connections, "
                       "and the server caps connections at what its heap holds; its -XX:MaxRAM here overrides the "
                       "header's). Sockets: those open in the server once settled, less those open before the "
                       "connections (its listening and internal ones). " + MEMORY_LEGEND)
            out.append("")
            out.append(f"| {args.idle_connections} idle keep-alive connections | settings | RSS before (MiB) | "
                       f"RSS with them, 0.5 s after opening (MiB) | the same {args.idle_settle:g} s later (MiB) | "
                       f"PSS then (MiB) | sockets they added in the server | time to open them (s) |")
            out.append("|---|---|---|---|---|---|---|---|")
            for server, m in self.idle.items():
                out.append(f"| {memory_row(server)} | `{self.idle_settings.get(server, '')}` | {mib(m['before'])} | "
                           f"{mib(m['with'])} | {mib(m['settled'])} | {mib(m['pss_settled'])} | {m['sockets']} "
                           f"({m['sockets'] + m['sockets_before']} less {m['sockets_before']}) | "
                           f"{m['open_s']:.1f} |")
            out.append("")
        if self.startup:
            out.append(f"| start-up: process start to first /healthz 200 | ms, median (min-max) of "
                       f"{args.startup_reps} | RSS then (MiB; nginx: master + worker) |")
            out.append("|---|---|---|")
            for name, times, rss in self.startup:
                out.append(f"| {memory_row(name)} | {median_range(times)} | {mib(statistics.median(rss))} |")
            out.append("")
        out += self.warmup_tables()
        for note in self.notes:
            out.append(f"- {note}")
        print("\n".join(out))


# wrk 4, after a run, takes the interval between a connection's requests as the run's length over the requests
# per connection, and for every recorded latency of at least twice that interval adds the latencies the
# requests that a client sending at that interval would have sent meanwhile would have had (stats_correct).
P99_LEGEND = ("p50 and p99 are wrk's, with its coordinated-omission correction (for each latency of at least "
              "twice a connection's mean interval between requests, wrk adds the latencies of the requests a "
              "client sending at that interval would have sent meanwhile), applied to both servers alike.")

# nginx's memory is that of its master and its worker added; the two share most of their pages, which RSS and
# VmHWM count in each and PSS splits between them (the JVM is one process: its RSS and PSS differ by what it
# shares with other processes, the JDK's libraries and the AOT cache's file pages).
MEMORY_LEGEND = ("Memory: nginx's RSS and VmHWM are its master's and its worker's added, counting the pages they "
                 "share twice; PSS (proportional set size, /proc/PID/smaps_rollup, summed over the processes) "
                 "splits a shared page between the processes that map it, so nginx's is not double-counted. RSS "
                 "is the figure earlier runs printed.")


def memory_row(server):
    """A memory table's row name: nginx's figures are its two processes' added."""
    return "nginx (master + worker)" if server == "nginx" else server


def mib(kb):
    return "-" if not kb else f"{kb / 1024:.1f}"


def nginx_version(nginx):
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    return (result.stderr or result.stdout).strip().replace("nginx version: ", "")


def at_least_one(text):
    """An argparse type: a whole number of at least 1 (a table of no slices or no starts has nothing to show)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true",
                        help="every case once, briefly (about two minutes): checks the suite still runs; "
                             "figures are not meaningful (bench/run.sh --help says what fails it and what is "
                             "only noted)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each throughput case (default 5)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run (default 8)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per case and server (default 5)")
    parser.add_argument("--startup-reps", type=int, default=5, help="start-ups per variant (default 5)")
    parser.add_argument("--idle-connections", type=int, default=10000,
                        help="idle keep-alive connections to hold open (default 10000)")
    parser.add_argument("--cases", nargs="*", default=[],
                        help="throughput cases to run, in the throughput, floor and alloc parts (ka64 ka1000 close "
                             "pipe16 xcode healthz proxied ka64paced ka1000paced xcodepaced proxiedpaced; default all)")
    parser.add_argument("--parts", nargs="*",
                        default=["throughput", "peak", "scaling", "tail", "floor", "alloc", "idle", "startup",
                                 "warmup"],
                        help="parts to run: throughput peak scaling tail floor alloc idle startup warmup "
                             "(default all)")
    parser.add_argument("--scaling-connections", nargs="*", type=int, default=[64, 128, 256, 512, 1000, 2000],
                        help="keep-alive connection counts of the scaling part (default 64 128 256 512 1000 2000)")
    parser.add_argument("--scaling-reps", type=int, default=3,
                        help="repetitions per connection count in the scaling part (default 3)")
    parser.add_argument("--scaling-duration", type=int, default=6,
                        help="seconds per wrk run in the scaling part (default 6)")
    parser.add_argument("--tail-durations", nargs="*", type=int, default=[8, 30],
                        help="run lengths in seconds of the tail part (default 8 30)")
    parser.add_argument("--tail-reps", type=int, default=3,
                        help="repetitions per run length in the tail part (default 3)")
    parser.add_argument("--idle-rest", type=float, default=10.0,
                        help="seconds after the first answer at which the servers' idle RSS is read a second "
                             "time, before any load (default 10)")
    parser.add_argument("--idle-settle", type=float, default=5.0,
                        help="seconds to wait, connections held, before the settled RSS reading (default 5)")
    parser.add_argument("--warmup-slices", type=at_least_one, default=10,
                        help="one-second slices measured from the first 200 in the warm-up part (default 10)")
    parser.add_argument("--warmup-reps", type=at_least_one, default=3, help="fresh starts per warm-up variant (default 3)")
    parser.add_argument("--jar", default=os.path.join(ROOT, "backend-server/target/backend-server.jar"))
    parser.add_argument("--baseline-jar",
                        help="another build of the server jar (say, main's) to run in the throughput part beside "
                             "this one, same JVM and flags, interleaved; adds a table of this build's ratios "
                             "to it")
    parser.add_argument("--java", default=TEMURIN_25 if os.path.exists(TEMURIN_25) else "java",
                        help=f"the JVM for the throughput and memory cases (default {TEMURIN_25}, else java)")
    parser.add_argument("--java17", default=shutil.which("java"),
                        help="a JDK 17 java for the start-up comparison (default: java on the PATH)")
    parser.add_argument("--jvm-options", default=os.path.join(ROOT, "docker/jvm.options"),
                        help="the image's java @argfile, used on JDK 25 when it exists (default docker/jvm.options)")
    parser.add_argument("--pod-memory", default="64m",
                        help="with the image's argfile, the pod memory limit the JVM sizes itself for, as "
                             "-XX:MaxRAM (default 64m; empty for none)")
    parser.add_argument("--no-aot-cache", action="store_true",
                        help="run the throughput and memory parts without the image's AOT cache (by default "
                             "they use one, trained as the image's build does, on JDK 25 with the image's flags)")
    parser.add_argument("--jvm-arg", action="append", default=[],
                        help="one more JVM flag for every run with flags (repeatable), to try a change")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="one more flag for our server in every part (repeatable), say "
                             "--server-arg=--transport=io_uring; not for the baseline, nor for the JDK 25 AOT "
                             "training run, which runs as the image's build does")
    parser.add_argument("--baseline-server-arg", action="append", default=[],
                        help="one more flag for the baseline build (repeatable)")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary folder (logs, configs)")
    parser.add_argument("--lock-wait", type=float, default=2400.0,
                        help=f"seconds to wait while another run holds {LOCK_PATH}, before giving up with exit "
                             "status 2 (default 2400: longer than a full suite)")
    args = parser.parse_args(argv)
    args.argv = argv
    if args.smoke:
        args.reps, args.duration, args.warmup, args.startup_reps = 1, 1, 1, 1
        args.scaling_reps, args.scaling_duration = 1, 1
        args.tail_reps, args.tail_durations = 1, [1]
        args.warmup_slices, args.warmup_reps, args.idle_settle, args.idle_rest = 2, 1, 1.0, 1.0
        args.idle_connections = min(args.idle_connections, 2000)
    return args


def take_lock(wait):
    """An exclusive lock on LOCK_PATH for the rest of this process (the descriptor is returned and never closed:
    it goes with the process, and servers started after it do not inherit it, Popen closing descriptors). While
    another run holds it, says so and waits up to `wait` seconds; None when it is still held then."""
    try:
        fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
        writable = True
    except PermissionError:
        # Made by another user: still lockable read-only, only our name cannot be written into it.
        fd = os.open(LOCK_PATH, os.O_RDONLY)
        writable = False
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            if not told:
                log(f"another benchmark run holds {LOCK_PATH} ({lock_holder()}): waiting up to {wait:g} s for it "
                    "to end (two runs at once share the same cores and corrupt each other's figures)")
                told = True
            time.sleep(1.0)
    if told:
        log("the other run has ended: starting")
    if writable:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}: bench/run.sh "
                     f"{' '.join(sys.argv[1:])}\n".encode())
    return fd


def lock_holder():
    """Who holds the lock, as the holder wrote it."""
    try:
        with open(LOCK_PATH) as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def exit_on_signal(signum, frame):
    """SIGTERM or SIGHUP (run.sh execs this script, so they come here): raised as SystemExit, so that main's
    finally stops the servers, kills wrk (run_group) and removes the temporary folder; Python's default for
    both is to die on the spot, leaving the servers running."""
    log(f"{signal.Signals(signum).name}: stopping the servers and removing the temporary folder")
    raise SystemExit(128 + signum)


def main(argv):
    args = parse_args(argv)
    for sig in STOP_SIGNALS:
        signal.signal(sig, exit_on_signal)
    lock = take_lock(args.lock_wait)
    if lock is None:
        print(f"bench/run.sh: another benchmark run still holds {LOCK_PATH} after {args.lock_wait:g} s "
              f"({lock_holder()}); not started. --lock-wait sets how long to wait.", file=sys.stderr)
        return 2
    # This process on wrk's core too: its polling for a server's first answer (every millisecond, in the start-up
    # timings), its RSS sampling under load and its 10,000 held connections must not take the server's core.
    # What it starts inherits this, but every server is pinned to the server core by taskset.
    os.sched_setaffinity(0, {int(CLIENT_CORE)})
    bench = Bench(args)
    try:
        return bench.run()
    except BenchError as e:
        bench.fail(str(e))
        return 1
    finally:
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
