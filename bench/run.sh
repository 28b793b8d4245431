#!/usr/bin/env bash
# Benchmarks the default backend against Debian's nginx, side by side in one run, on loopback.
# The work is done by bench/bench.py; this script checks the tools, builds the jar when it is missing
# and raises the open-files limit for the 10,000-connection case.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/backend-server/target/backend-server.jar"

usage() {
    cat <<'USAGE'
Usage: bench/run.sh [--rebuild] [options]

Starts the packaged server (backend-server/target/backend-server.jar, built when missing) and nginx
(one worker, access log off, the same /healthz and 404 answers) on free 127.0.0.1 ports, each pinned to
core 0, drives them with wrk pinned to core 1, and prints Markdown tables: medians and min-max over the
repetitions, ratios to nginx, server CPU time per request (user+system from /proc/PID/stat), p50/p99
latency (none for pipelining, which wrk times per 16-request batch, not per request), RSS idle (0.5 s
and 10 s after each server's own first /healthz 200; AOT caches are trained before any server starts) /
under load / after load, with PSS at rest and after load (/proc/PID/smaps_rollup; nginx's RSS is its
master's and worker's added, counting their shared pages twice, which PSS does not), the peak RSS of a fresh process under the keep-alive cases alone, the bytes the
server allocates per request in each case (a fresh process, from its collector's log), RSS with 10,000
idle keep-alive connections (ours with -XX:MaxRAM=160m, --max-connections 10100 and --idle-timeout 2m
added, nginx with keepalive_timeout 120s), and the time from process start to the first /healthz 200
for JDK 17, Temurin 25 and Temurin 25 with an AOT cache. After the throughput table, each of issue 6's
targets against nginx (CPU per request, req/s, p99) judged on the median of the per-repetition ratios and
its distribution-free one-sided 95 % bounds: met, not met, or not resolved (parity within the run's noise;
it takes 5 repetitions or more to judge at all). nginx serves the contract's configuration alone, and the
custom-error cases from a second server block that adds the X-Code rewrite.

Cases (interleaved, both servers per repetition): keep-alive with 64 and 1000 connections, a new
connection per request, pipelining depth 16, the custom-error path (X-Code: 503, Accept: application/json;
"n/a" when the build does not support X-Code), /healthz, ingress-nginx's forwarded requests (proxied);
and four paced cases, where each connection pauses after every answer (1 ms at 64 connections, plain
and X-Code; 10 ms at 1000; 5 ms for proxied's 320), so that both servers get the same offered load
below saturation and their p99 is compared at the same load.

Scaling: CPU time per request as the keep-alive connections grow (64 to 2000), at about the same
offered load (each connection pauses connections/64 ms after every answer), both servers interleaved.

Tail: the keep-alive case at 1000 connections flat out, in runs of 8 and 30 s, both servers
interleaved, with p90, p99, p99.9 and the slowest request: every run opens its 1000 connections at once
as it starts, and the requests that wait behind those set-ups are about a percent of an 8 s run, so
the two lengths tell that start from steady traffic.

Floor: the keep-alive cases (64 and 1000 connections by default) on a third server beside ours and
nginx, bench/FloorServer.java: Netty's epoll transport answering every read with fixed bytes, no HTTP
(io_uring when --server-arg moves ours to it). Its CPU per request is the transport's; ours above it is
the HTTP layer's (needs javac beside --java).

Warm-up: requests per second and p99 in each second after a fresh start's first 200 (keep-alive 64, each
second a wrk run of its own, on new connections), for the server with the image's flags, with its AOT
cache, and nginx.

The JVM flags are docker/jvm.options then docker/jvm25.options (the image's @argfiles) on JDK 25 when
they exist, otherwise the fallback flags listed at the top of bench/bench.py. With the image's flags the
throughput and memory parts also use an AOT cache, trained first as the image's build trains its own:
the server runs as the image runs it. As in the image, Netty's native libraries (epoll, io_uring) are
taken out of the jar once and given as -Djava.library.path, rather than copied to a temporary file at
every start.

Options:
  --smoke              every case once, about one second each (about two minutes in all); what CI runs.
                       Figures are never judged. It exits non-zero, as any run does: before anything
                       runs, when a tool is missing (python3, java, wrk, nginx, taskset) or core 0 or 1
                       cannot be used; then when a server fails to start, answers a probe wrongly, dies
                       during a wrk run or does not stop; when wrk reports socket errors, over one timeout per
                       thousand requests or unexpected statuses; when an AOT training run, the compiling
                       of FloorServer.java or a held idle connection fails; when another run holds the
                       lock past --lock-wait (exit status 2). Only noted at the end of the report,
                       exit status 0: no Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64 (its start-up
                       variants left out; --java then defaults to java on the PATH, which below JDK 25
                       runs with the fallback flags and no AOT cache, as the report's header says); no
                       javac beside --java (the floor part left out); an open-files limit too
                       low for a scaling count (that count left out) or for --idle-connections (capped);
                       a build without X-Code ("n/a"). These stay notes because .ci/run installs
                       python3, wrk and nginx-light but not Temurin 25, and cannot raise the hard limit.
  --rebuild            rebuild the jar first (./mvnw -B -q -DskipTests package)
  --reps N             repetitions of each throughput case (default 5)
  --duration S         seconds per wrk run (default 8)
  --warmup S           warm-up seconds per case and server (default 5)
  --startup-reps N     start-ups per start-up variant (default 5)
  --idle-rest S        seconds after each server's first answer of its second idle RSS reading (default 10)
  --idle-connections N idle keep-alive connections to hold (default 10000; 2000 in --smoke; capped by the
                       open-files limit); ours gets --max-connections N+100
  --idle-settle S      seconds to hold them before the second RSS reading (default 5)
  --cases KEY...       only these cases (throughput, floor and alloc): ka64 ka1000 close pipe16 xcode
                       healthz proxied ka64paced ka1000paced xcodepaced proxiedpaced (proxied: ingress-nginx's
                       forwarded requests at 320 connections; the paced ones are left out of alloc;
                       floor takes ka64 ka1000 healthz xcode proxied and the paced keep-alive
                       ones; its answer to xcode is the 404, since it reads no header)
  --parts PART...      only these parts: throughput peak scaling tail floor alloc idle startup warmup
  --scaling-connections N...  connection counts of the scaling part (default 64 128 256 512 1000 2000)
  --scaling-reps N     repetitions per count in the scaling part (default 3)
  --scaling-duration S seconds per wrk run in the scaling part (default 6)
  --tail-durations S...  run lengths in seconds of the tail part (default 8 30)
  --tail-reps N        repetitions per run length in the tail part (default 3)
  --warmup-slices N    one-second slices measured from the first 200 in the warm-up part (default 10)
  --warmup-reps N      fresh starts per warm-up variant (default 3)
  --java PATH          JVM for the throughput and memory cases (default Temurin 25 when installed)
  --java17 PATH        JDK 17 java for the start-up comparison (default: java on the PATH)
  --jvm-options FILE   the image's java @argfile (default docker/jvm.options)
  --pod-memory SIZE    with that argfile, the pod memory limit to size the heap for, given to the
                       JVM as -XX:MaxRAM (default 64m; --pod-memory= for none)
  --no-aot-cache       run the throughput and memory parts without the image's AOT cache (by
                       default, on JDK 25 with the image's flags, they use one trained as the
                       image's build does: the image's runtime)
  --jvm-arg FLAG       one more JVM flag wherever flags are used (repeatable), to try a change
  --server-arg FLAG    one more flag for our server in every part (repeatable), say
                       --server-arg=--transport=io_uring; not for the baseline, nor for the AOT
                       training run, which runs as the image's build does
  --baseline-jar JAR   another build of the server (say, main's) run beside this one in the
                       throughput part, same JVM and JVM flags, interleaved; adds a table of this
                       build's ratios to it: a change measured side by side in one run. The same
                       jar with --server-arg compares two settings of one build.
  --baseline-server-arg FLAG  one more flag for the baseline build (repeatable)
  --keep-tmp           keep the temporary folder with configs and server logs
  --lock-wait S        one run at a time: two would pin to the same cores and corrupt each other's
                       figures. A run holds /tmp/kidb-bench.lock throughout; another one says it waits,
                       waits up to S seconds (default 2400, longer than a full suite), then exits 2.
  -h, --help           this help

Needs: bash, python3, java, wrk, nginx (nginx-light), taskset (util-linux), two CPU cores.
The full suite takes about 30 minutes; every load is bounded in time and stops by itself. Interrupted
(Ctrl-C, SIGTERM, SIGHUP), it stops the servers (each in a process group of its own: nginx's worker goes
with its master), wrk and any AOT training run, removes its temporary folder, and exits 128 + the signal.
USAGE
}

rebuild=false
args=()
for arg in "$@"; do
    case "$arg" in
        -h|--help) usage; exit 0 ;;
        --rebuild) rebuild=true ;;
        *) args+=("$arg") ;;
    esac
done

missing=()
for tool in python3 java wrk taskset; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bench/run.sh: missing ${missing[*]} (Debian: apt-get install wrk nginx-light python3 util-linux)" >&2
    exit 2
fi
# Cores 0 and 1 themselves, which the servers and wrk are pinned to: a machine may have two cores and still not
# let this run use those (a cpuset).
if ! taskset -c 0 true 2>/dev/null || ! taskset -c 1 true 2>/dev/null; then
    echo "bench/run.sh: needs CPU cores 0 and 1 (server on core 0, wrk on core 1)" >&2
    exit 2
fi

if $rebuild || [ ! -f "$jar" ]; then
    (cd "$root" && ./mvnw -B -q -DskipTests package -pl backend-server -am)
fi

# Both servers and the 10,000-connection client need more descriptors than the usual 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 "$root/bench/bench.py" "${args[@]+"${args[@]}"}"
