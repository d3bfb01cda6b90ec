#!/usr/bin/env bash
# Make the local test image `orchestrate-test:bookworm` without pulling anything: a Debian
# bookworm rootfs made by debootstrap from the Debian mirror, imported into docker (or podman),
# then the host's CA bundle, the host venv's interpreter (see copy_host_python), the Debian
# packages of IMAGE_PACKAGES and py-rattler-build (the host's version) installed from PyPI into
# that interpreter. conda-build is not installed: a conda-build build mounts the host's
# conda-build environment (`make conda-build`) read-only at its own path (builders/conda_build.py).
#
# Idempotent: an existing image made with the same py-rattler-build and IMAGE_PACKAGES is reused
# (FORCE=1 remakes it); the rootfs tarball is cached under cache/images/ so a remake skips
# debootstrap.
#
# Environment: RUNTIME (docker|podman, default docker), IMAGE (default orchestrate-test:bookworm),
# MIRROR (default http://deb.debian.org/debian), CA_BUNDLE (default
# /etc/ssl/certs/ca-certificates.crt), RATTLER_BUILD_VERSION (default: the host venv's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runtime="${RUNTIME:-docker}"
image="${IMAGE:-orchestrate-test:bookworm}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
ca_bundle="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
cache="$root/cache/images"
rootfs_tar="$cache/bookworm-rootfs.tar"
base="${image%:*}:bookworm-base"
# libarchive13: conda-build imports python-libarchive-c, which loads the system's libarchive;
# gcc, g++, libc6-dev: the system toolchain recipes/system-toolchain bridges (gcc 12.2.0, glibc
# 2.36 on bookworm, the host's versions), so that compiled recipes build inside too.
packages="libarchive13 gcc g++ libc6-dev"

log() { printf 'make-test-image: %s\n' "$*" >&2; }

host_python() {
    local python="$root/.venv/bin/python"
    [ -x "$python" ] || python=python3
    echo "$python"
}

host_rattler_build_version() {
    "$(host_python)" -c 'import importlib.metadata as m; print(m.version("py-rattler-build"))'
}

# The interpreter behind the host's venv, when it is not the distribution's own (/usr): the
# image gets a copy at the same prefix (it is linked with an absolute rpath), without its
# site-packages and tests, so that builds inside see the very Python the host builds with
# (recipes/python packages the build machine's interpreter and checks its exact version).
# Its include/ comes along: C extensions (own-native-py, markupsafe) compile against it.
host_python_prefix() {
    "$(host_python)" -c 'import sys; print(sys.base_prefix)'
}

copy_host_python() {
    local prefix="$1" ctx="$2"
    if [ "$prefix" = /usr ]; then
        tar -c -T /dev/null >"$ctx/python.tar"
        return
    fi
    log "copying the host interpreter $prefix into the image"
    tar -C / -c --exclude='site-packages/*' --exclude='python3*/test' --exclude='__pycache__' \
        "${prefix#/}/bin" "${prefix#/}/lib" "${prefix#/}/include" >"$ctx/python.tar"
}

image_exists() { "$runtime" image inspect "$1" >/dev/null 2>&1; }

make_rootfs_tar() {
    [ -s "$rootfs_tar" ] && { log "reusing $rootfs_tar"; return; }
    command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 2; }
    mkdir -p "$cache"
    local dir
    dir="$(mktemp -d "$cache/rootfs.XXXXXX")"
    trap 'rm -rf "$dir"' EXIT
    log "debootstrap bookworm into $dir (a few minutes)"
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { log "debootstrap failed, see $cache/debootstrap.log"; exit 1; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -c . >"$rootfs_tar.tmp"
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$dir"
    trap - EXIT
}

import_base() {
    image_exists "$base" && { log "reusing $base"; return; }
    make_rootfs_tar
    log "importing $base"
    "$runtime" import "$rootfs_tar" "$base" >/dev/null
}

# The final layer: the host's CA bundle (so containers reach the same HTTPS hosts as the host)
# and py-rattler-build installed into the interpreter itself, not a venv: `python3` on PATH
# runs the builder, and `python3.11` there is the bare interpreter recipes/python packages.
# HOME=/tmp so that any --user can write its caches.
make_image() {
    local version="$1" prefix ctx python_bin
    prefix="$(host_python_prefix)"
    ctx="$(mktemp -d)"
    cp "$ca_bundle" "$ctx/ca-certificates.crt"
    copy_host_python "$prefix" "$ctx"
    python_bin="$prefix/bin/python3"
    [ "$prefix" = /usr ] && python_bin=/usr/bin/python3
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ADD python.tar /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PATH=$prefix/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    HOME=/tmp \\
    LANG=C.UTF-8
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
RUN d="$prefix"; while [ "\$d" != / ]; do chmod o+rx "\$d"; d="\$(dirname "\$d")"; done \\
 && { $python_bin -m ensurepip --default-pip >/dev/null 2>&1 || true; } \\
 && $python_bin -m pip install --no-cache-dir -q --break-system-packages py-rattler-build==$version \\
 && python3 -c 'import rattler_build' \\
 && chmod 1777 /tmp
LABEL orchestrate.image=test orchestrate.rattler-build=$version orchestrate.python=$python_bin \\
      orchestrate.made-with="$(made_with "$version")"
DOCKERFILE
    log "building $image with py-rattler-build $version"
    # --network host: the build step reaches PyPI the way the host does.
    "$runtime" build --network host -t "$image" "$ctx" >&2 || { rm -rf "$ctx"; exit 1; }
    rm -rf "$ctx"
}

# What an image is made with: a change to this line (the py-rattler-build version, the Debian
# packages, what is copied of the interpreter) remakes an existing image.
made_with() { echo "py-rattler-build $1; $packages; interpreter bin lib include"; }

# What an existing image was made with ("" when there is none).
image_made_with() {
    "$runtime" image inspect -f '{{index .Config.Labels "orchestrate.made-with"}}' "$image" \
        2>/dev/null || true
}

main() {
    local version="${RATTLER_BUILD_VERSION:-$(host_rattler_build_version)}"
    if [ "$(image_made_with)" = "$(made_with "$version")" ] && [ "${FORCE:-0}" != 1 ]; then
        log "reusing $image ($(made_with "$version"))"
        return
    fi
    import_base
    make_image "$version"
    log "done: $image"
}

main "$@"
