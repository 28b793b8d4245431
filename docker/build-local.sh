#!/usr/bin/env bash
# Builds docker/Dockerfile, unchanged, with podman on a machine that has no Docker engine and no
# registry: only the two base-image arguments are replaced, by local stand-ins this script assembles.
#
#   docker/build-local.sh               build localhost/kubernetes-ingress-defaultbackend:dev
#   docker/build-local.sh --print-env   print the CONTAINERS_* variables the build used, as shell exports
#
# Stand-ins (amd64 only; built once, then reused while their inputs are unchanged):
#   runtime  distroless-like: the host's libc6 files (what distroless ships), /etc/passwd and /etc/group
#            with root, nonroot 65532 and nobody 65534, /tmp; no shell, no package manager.
#   jdk      a shell and the Temurin 25 JDK at /opt/java/openjdk, as the eclipse-temurin image (which has
#            no curl, wget or unzip either): a minimal Debian (debootstrap, with binutils for jlink and
#            ca-certificates) plus the host's JDK ($KIDB_STANDIN_JDK).
#
# podman is configured by CONTAINERS_CONF and CONTAINERS_STORAGE_CONF when they are set; otherwise this
# script writes its own under $KIDB_CONTAINERS_HOME (default /var/tmp/kidb-containers): runc, cgroupfs,
# file events, raised ulimits, and storage in that folder. Needs root (debootstrap, rootful podman).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAG="${KIDB_IMAGE_TAG:-localhost/kubernetes-ingress-defaultbackend:dev}"
STANDIN_JDK="${KIDB_STANDIN_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
STATE="${KIDB_CONTAINERS_HOME:-/var/tmp/kidb-containers}"
MIRROR="${KIDB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# Bump when a stand-in's recipe changes, so that the next run rebuilds it.
RECIPE=2

log() { printf '[build-local] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

configure_podman() {
    mkdir -p "$STATE"
    if [ -z "${CONTAINERS_CONF:-}" ]; then
        export CONTAINERS_CONF="$STATE/containers.conf"
        cat > "$CONTAINERS_CONF.new" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
        mv "$CONTAINERS_CONF.new" "$CONTAINERS_CONF"
    fi
    if [ -z "${CONTAINERS_STORAGE_CONF:-}" ]; then
        export CONTAINERS_STORAGE_CONF="$STATE/storage.conf"
        cat > "$CONTAINERS_STORAGE_CONF.new" <<EOF
[storage]
driver = "${KIDB_STORAGE_DRIVER:-overlay}"
graphroot = "$STATE/storage"
runroot = "$STATE/run"
EOF
        mv "$CONTAINERS_STORAGE_CONF.new" "$CONTAINERS_STORAGE_CONF"
    fi
}

if [ "${1:-}" = "--print-env" ]; then
    configure_podman
    printf 'export CONTAINERS_CONF=%q\nexport CONTAINERS_STORAGE_CONF=%q\n' "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF"
    exit 0
elif [ $# -gt 0 ]; then
    die "unknown argument: $1 (usage: $0 [--print-env])"
fi

[ "$(id -u)" = 0 ] || die "run as root: the stand-ins need debootstrap and rootful podman"
for tool in podman debootstrap dpkg-query tar sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install podman buildah runc uidmap slirp4netns debootstrap)"
done
[ -x "$STANDIN_JDK/bin/jlink" ] || die "no JDK with jlink at $STANDIN_JDK (set KIDB_STANDIN_JDK)"
[ "$(uname -m)" = x86_64 ] || die "the stand-ins are amd64 only; on $(uname -m) build with docker buildx"
configure_podman

# One build at a time in this storage: tests in several worktrees may call this script together.
exec 9>"$STATE/build.lock"
flock 9

image_exists() { podman image exists "$1"; }

# ---- runtime stand-in: glibc from the host's libc6 package, users, and nothing else.
# The shared libraries of Debian's libc6 (as distroless ships them), without the gconv charset modules.
libc_files="$(dpkg-query -L libc6 | grep -E '^/(lib|lib64)/.*\.so' | sort)"
runtime_key="$( { echo "runtime $RECIPE"; for f in $libc_files; do [ -f "$f" ] && sha256sum "$f"; done; } | sha256sum | cut -c1-16)"
RUNTIME_IMAGE="localhost/kidb-standin/runtime:$runtime_key"
if image_exists "$RUNTIME_IMAGE"; then
    log "runtime stand-in $RUNTIME_IMAGE: up to date"
else
    log "assembling runtime stand-in $RUNTIME_IMAGE"
    rootfs="$(mktemp -d "$STATE/runtime-rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    for f in $libc_files; do
        # Copy symlinks as symlinks and files as files, at their Debian paths.
        [ -e "$f" ] || [ -L "$f" ] || continue
        mkdir -p "$rootfs$(dirname "$f")"
        cp -a "$f" "$rootfs$f"
    done
    mkdir -p "$rootfs/etc" "$rootfs/home/nonroot" "$rootfs/root" "$rootfs/tmp" "$rootfs/var"
    chmod 1777 "$rootfs/tmp"
    chmod 700 "$rootfs/root"
    chown 65532:65532 "$rootfs/home/nonroot"
    cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
    cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
    cat > "$rootfs/etc/nsswitch.conf" <<'EOF'
passwd:         files
group:          files
hosts:          files dns
EOF
    printf 'PRETTY_NAME="kidb runtime stand-in (Debian 12 libc6, distroless-like)"\nID=debian\nVERSION_ID="12"\n' \
        > "$rootfs/etc/os-release"
    tar -C "$rootfs" --numeric-owner --sort=name -c . \
        | podman import \
            --change 'USER 65532:65532' \
            --change 'WORKDIR /home/nonroot' \
            --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
            - "$RUNTIME_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

# ---- build stand-in: a minimal Debian with a shell and binutils, and the Temurin JDK.
jdk_key="$( { echo "jdk $RECIPE $SUITE"; cat "$STANDIN_JDK/release"; sha256sum /etc/ssl/certs/ca-certificates.crt \
    "$(readlink -f "$STANDIN_JDK/lib/security/cacerts")"; } | sha256sum | cut -c1-16)"
JDK_IMAGE="localhost/kidb-standin/jdk:$jdk_key"
if image_exists "$JDK_IMAGE"; then
    log "jdk stand-in $JDK_IMAGE: up to date"
else
    log "assembling jdk stand-in $JDK_IMAGE (debootstrap $SUITE from $MIRROR, then $STANDIN_JDK)"
    rootfs="$(mktemp -d "$STATE/jdk-rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include=ca-certificates,binutils "$SUITE" "$rootfs" "$MIRROR" \
        > "$STATE/debootstrap.log" 2>&1 || die "debootstrap failed; see $STATE/debootstrap.log"
    mkdir -p "$rootfs/opt/java"
    cp -a "$STANDIN_JDK" "$rootfs/opt/java/openjdk"
    # Trust what the host trusts: where TLS to the package registries passes through a proxy with its own
    # CA, Maven (Java's cacerts) and curl (the system bundle) in the build stage need that CA too. The
    # host JDK's cacerts is often a link into the host's /etc, so it is copied as a file.
    rm -f "$rootfs/opt/java/openjdk/lib/security/cacerts"
    cp -L "$STANDIN_JDK/lib/security/cacerts" "$rootfs/opt/java/openjdk/lib/security/cacerts"
    cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
    tar -C "$rootfs" --numeric-owner -c . \
        | podman import \
            --change 'ENV JAVA_HOME=/opt/java/openjdk' \
            --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change 'WORKDIR /' \
            - "$JDK_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

# ---- the image, from docker/Dockerfile as it is.
version="$(sed -n 's:^    <version>\(.*\)</version>$:\1:p' "$ROOT/pom.xml" | head -n1)"
revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
created="$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || echo 1970-01-01T00:00:00Z)"
log "building $TAG (version $version, revision $revision)"
# --network host: the build stage fetches Maven and the dependencies, and the training run binds loopback.
# --format docker: the OCI format has no HEALTHCHECK.
# --label: buildah 1.28 reuses a cached LABEL step when only a --build-arg value changed, so the labels
# that come from build arguments are also set on the command line, which applies them at commit.
iidfile="$(mktemp "$STATE/iid.XXXXXX")"
trap 'rm -f "$iidfile"' EXIT
podman build \
    --iidfile "$iidfile" \
    --pull=never \
    --network host \
    --format docker \
    --layers \
    --build-arg "JDK_IMAGE=$JDK_IMAGE" \
    --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    --build-arg "VERSION=$version" \
    --build-arg "REVISION=$revision" \
    --build-arg "CREATED=$created" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$revision" \
    --label "org.opencontainers.image.created=$created" \
    -f "$ROOT/docker/Dockerfile" \
    -t "$TAG" \
    "$ROOT" >&2
log "built $TAG"
# The ID of what this run built (the tag may be moved by a build from another worktree at any time).
sed 's/^sha256://' "$iidfile"
echo
