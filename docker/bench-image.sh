#!/usr/bin/env bash
# Measures the image side by side, in one run, and prints the figures docker/README.md quotes:
#   1. size: uncompressed (podman image inspect) and compressed (podman save | gzip -c | wc -c)
#   2. time from `podman run` to the first 200 on /healthz, with the AOT cache and without it
#      (-XX:AOTMode=off), alternating, median of $RUNS each, and their ratio
#   3. memory in --memory 64m: anonymous RSS idle and after a bounded wrk load (plus the cgroup's peak),
#      for the shipped flags and for variants (no AOT cache, Netty's adaptive allocator, C1 only, tiered C1+C2, relocated
#      AOT cache), each started the same way
#   4. the smallest --memory limit (no swap) that survives the load with the health check running
#
#   docker/bench-image.sh [runs]        (default 7; needs podman, curl and wrk; builds the image if needed)
#
# Everything listens on 127.0.0.1 (host network, ports picked free); every load is wrk -d 5s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-7}"
LOAD_SECONDS=5
TAG="${KIDB_IMAGE_TAG:-localhost/kubernetes-ingress-defaultbackend:dev}"
for tool in podman curl wrk python3 gzip; do
    command -v "$tool" >/dev/null || { echo "bench-image: $tool is not installed" >&2; exit 1; }
done
"$ROOT/docker/build-local.sh" >/dev/null 2>&1 || { echo "bench-image: docker/build-local.sh failed" >&2; exit 1; }
eval "$("$ROOT/docker/build-local.sh" --print-env)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
CONTAINERS=()
# Run from a scratch directory: after a run an empty file named "oom" turned up in the repository's root,
# most likely podman's monitor marking an OOM-killed container in its working directory.
SCRATCH="$(mktemp -d)"
cd "$SCRATCH"
cleanup() {
    for c in "${CONTAINERS[@]:-}"; do [ -n "$c" ] && podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

ENTRY=(/opt/jre/bin/java @/app/jvm.options @/app/jvm25.options -Djava.library.path=/app/lib)
AOT=(-XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 -XX:-AOTReplayTraining -XX:AOTCache=/app/backend-server.aot)
JAR=(-jar /app/backend-server.jar)

# start <memory> <port> [java args...]: starts the image (its own ENTRYPOINT when no java args are
# given), prints the container id. Constraints as the chart's securityContext.
start() {
    local memory="$1" port="$2"; shift 2
    local entry=()
    if [ $# -gt 0 ]; then entry=(--entrypoint "$1"); shift; fi
    podman run -d --network host --memory "$memory" --memory-swap "$memory" --health-interval disable \
        --read-only --read-only-tmpfs=false --user 65534:65534 --cap-drop ALL --security-opt no-new-privileges \
        -e PORT="$port" -e SVC_PORT="$(free_port)" -e BIND_ADDRESS=127.0.0.1 "${entry[@]}" "$TAG" "$@" 2>/dev/null
}

await_200() {
    local port="$1" deadline=$(( $(now_ms) + 30000 ))
    until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.005
    done
}

anon_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }
# The peak memory use of the cgroup of process $1, in KiB: cgroup v1's memory.max_usage_in_bytes, else cgroup
# v2's memory.peak (kernel 5.19 and later), as ImageMemoryIT reads it; "n/a" where neither is readable.
cgroup_peak_kib() {
    local hierarchy controllers path file
    while IFS=: read -r hierarchy controllers path; do
        file=
        if [ "$controllers" = memory ]; then
            file="/sys/fs/cgroup/memory$path/memory.max_usage_in_bytes"
        elif [ "$hierarchy" = 0 ] && [ -z "$controllers" ]; then
            file="/sys/fs/cgroup$path/memory.peak"
        fi
        if [ -n "$file" ] && [ -r "$file" ]; then
            echo $(( $(cat "$file") / 1024 ))
            return
        fi
    done < "/proc/$1/cgroup"
    echo n/a
}

echo "== image $TAG"
size=$(podman image inspect --format '{{.Size}}' "$TAG")
compressed=$(podman save "$TAG" 2>/dev/null | gzip -c | wc -c)
awk -v u="$size" -v c="$compressed" \
    'BEGIN {printf "size: %.1f MB uncompressed, %.1f MB compressed (podman save | gzip)\n", u / 1e6, c / 1e6}'

echo
echo "== start to first /healthz 200 (podman run -> curl), $RUNS runs each, alternating"
aot_times=(); cold_times=()
for i in $(seq "$RUNS"); do
    for mode in aot cold; do
        port=$(free_port)
        t0=$(now_ms)
        if [ "$mode" = aot ]; then
            cid=$(start 64m "$port")
        else
            cid=$(start 64m "$port" "${ENTRY[0]}" "${ENTRY[@]:1}" -XX:AOTMode=off "${JAR[@]}")
        fi
        CONTAINERS+=("$cid")
        await_200 "$port" || { echo "no 200 within 30 s ($mode)" >&2; podman logs "$cid" >&2; exit 1; }
        elapsed=$(( $(now_ms) - t0 ))
        podman rm -f -t 0 "$cid" >/dev/null 2>&1
        if [ "$mode" = aot ]; then aot_times+=("$elapsed"); else cold_times+=("$elapsed"); fi
    done
done
aot_median=$(printf '%s\n' "${aot_times[@]}" | median)
cold_median=$(printf '%s\n' "${cold_times[@]}" | median)
echo "with AOT cache:    ${aot_times[*]} ms -> median $aot_median ms"
echo "without (AOT off): ${cold_times[*]} ms -> median $cold_median ms"
awk -v a="$aot_median" -v c="$cold_median" 'BEGIN {printf "ratio without/with: %.2f\n", c / a}'

echo
echo "== memory in --memory 64m: anonymous RSS idle / after wrk -t2 -c32 -d${LOAD_SECONDS}s (cgroup peak)"
variant() {
    local name="$1"; shift
    local port cid pid idle load peak rps
    port=$(free_port)
    cid=$(start 64m "$port" "$@"); CONTAINERS+=("$cid")
    await_200 "$port" || { echo "$name: did not start" >&2; return; }
    pid=$(podman inspect -f '{{.State.Pid}}' "$cid")
    sleep 1 # let start-up compilation settle before the idle figure
    idle=$(anon_kib "$pid")
    rps=$(wrk -t2 -c32 -d"${LOAD_SECONDS}s" "http://127.0.0.1:$port/x" 2>/dev/null | awk '/Requests\/sec/ {print $2}')
    if [ "$(podman inspect -f '{{.State.Running}}' "$cid")" != true ]; then
        printf '%-34s idle %5d KiB   KILLED under load\n' "$name" "$idle"
    else
        load=$(anon_kib "$pid")
        peak=$(cgroup_peak_kib "$pid")
        printf '%-34s idle %5d KiB   load %5d KiB   cgroup peak %5s KiB   %s req/s\n' "$name" "$idle" "$load" "$peak" "$rps"
    fi
    podman rm -f -t 0 "$cid" >/dev/null 2>&1
}
variant "shipped (ENTRYPOINT)"
variant "no AOT cache (C2 only)" "${ENTRY[0]}" "${ENTRY[@]:1}" -XX:AOTMode=off "${JAR[@]}"
variant "AOT cache relocated (JDK default)" "${ENTRY[0]}" "${ENTRY[@]:1}" -XX:AOTCache=/app/backend-server.aot "${JAR[@]}"
# The compiler's share, without the AOT cache (whose training profiles would differ between them):
variant "no AOT cache, C1 only" "${ENTRY[0]}" "${ENTRY[@]:1}" -XX:+TieredCompilation -XX:TieredStopAtLevel=1 -XX:AOTMode=off "${JAR[@]}"
variant "no AOT cache, tiered C1+C2 (JDK default)" "${ENTRY[0]}" "${ENTRY[@]:1}" -XX:+TieredCompilation -XX:AOTMode=off "${JAR[@]}"
variant "Netty adaptive allocator (default)" "${ENTRY[0]}" "${ENTRY[@]:1}" -Dio.netty.allocator.type=adaptive "${AOT[@]}" "${JAR[@]}"
variant "Netty pooled, 4 MiB chunks" "${ENTRY[0]}" "${ENTRY[@]:1}" -Dio.netty.allocator.maxOrder=9 "${AOT[@]}" "${JAR[@]}"

echo
echo "== smallest --memory (no swap) surviving wrk -d${LOAD_SECONDS}s, with 2 HEALTHCHECK runs (Docker) or none (Kubernetes probes)"
for case in 64m:2 56m:2 48m:2 40m:2 40m:0 32m:0 28m:0 24m:0; do
    memory="${case%:*}" checks="${case#*:}"
    port=$(free_port)
    cid=$(start "$memory" "$port"); CONTAINERS+=("$cid")
    if ! await_200 "$port"; then echo "$memory: did not start"; podman rm -f -t 0 "$cid" >/dev/null 2>&1; continue; fi
    wrk -t2 -c32 -d"${LOAD_SECONDS}s" "http://127.0.0.1:$port/x" >/dev/null 2>&1 &
    wrk_pid=$!
    health=ok
    for _ in $(seq "$checks"); do sleep 1; podman healthcheck run "$cid" >/dev/null 2>&1 || health=failed; done
    wait "$wrk_pid" || true
    if [ "$(podman inspect -f '{{.State.Running}}' "$cid")" = true ] && curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then
        echo "$memory, $checks health checks: survived (health checks $health)"
    else
        echo "$memory, $checks health checks: KILLED or not answering ($(podman inspect -f '{{.State.Status}} exit {{.State.ExitCode}}' "$cid"))"
    fi
    podman rm -f -t 0 "$cid" >/dev/null 2>&1
done
