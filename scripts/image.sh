#!/usr/bin/env bash
# Builds the image without a Docker engine: buildah (chroot isolation) from a Debian base made by debootstrap.
# Docker Hub and the PyTorch CPU index are unreachable on this project's machines, so both are replaced by
# build arguments: a local stand-in for python:3.11-slim-bookworm, and the CPU torch wheel from /opt/wheels.
# Needs root and `apt-get install buildah debootstrap`. Environment: IMAGE, BASE_IMAGE, DEBIAN_MIRROR, TORCH_WHEELS,
# STORY_TIERS (quality, the default: the 1.1 GB story model inside; light: without it, e.g. with
# IMAGE=localhost/conta-historias:light).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/conta-historias:latest}
BASE_IMAGE=${BASE_IMAGE:-localhost/conta-python:3.11-bookworm}
TORCH_WHEELS=${TORCH_WHEELS:-/opt/wheels}
STORY_TIERS=${STORY_TIERS:-quality}
# The mirror apt already uses here (it is reachable); deb.debian.org otherwise.
MIRROR=${DEBIAN_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list /etc/apt/sources.list.d/ \
  2>/dev/null | head -n1 || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "image: $tool missing (apt-get install buildah debootstrap)" >&2; exit 1; }
done

build_base() {
  # Debian's own python3 (3.11 in bookworm) instead of the python image's /usr/local one. python-is-python3
  # gives the `python` the Dockerfile calls; the venv made in the builder stage then points at /usr/bin/python,
  # which the runtime stage (the same base) has too.
  local work ctr
  work=$(mktemp -d)
  trap 'rm -rf "$work"; [ -n "${ctr:-}" ] && buildah rm "$ctr" >/dev/null 2>&1 || true' RETURN
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$work/root" "$MIRROR" >"$work/debootstrap.log" || { tail -n 30 "$work/debootstrap.log" >&2; return 1; }
  # Same apt sources layout as the official image: the Dockerfile adds non-free by editing debian.sources.
  rm -f "$work/root/etc/apt/sources.list"
  cat >"$work/root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: ${MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR}-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # pip (the venv's, from ensurepip) trusts its own certifi bundle; point it at the system's, which the
  # build below replaces with this machine's (its HTTPS egress goes through a proxy with its own CA).
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$work/root/etc/pip.conf"
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar -C "$work/root" -cf "$work/rootfs.tar" .
  ctr=$(buildah from scratch)
  buildah add "$ctr" "$work/rootfs.tar" / >/dev/null  # a local tar is unpacked
  buildah config --env LANG=C.UTF-8 --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd python3 "$ctr"
  buildah commit --rm "$ctr" "$BASE_IMAGE" >/dev/null
  ctr=""
}

if ! buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "image: making the base $BASE_IMAGE with debootstrap from $MIRROR"
  build_base
fi

# TORCH_SOURCE: pip finds the +cpu wheel in the mounted directory; it outranks PyPI's CUDA one at the same pin.
# The host's CA bundle is mounted for the build only (pip reaches PyPI through the proxy); the image keeps Debian's.
# Docker's image format keeps the HEALTHCHECK (OCI has none); --force-rm: no containers left by a failed build.
start=$(date +%s)
buildah bud --isolation chroot --pull=never --layers --force-rm --format docker -t "$IMAGE" \
  --build-arg PYTHON_IMAGE="$BASE_IMAGE" \
  --build-arg TORCH_SOURCE="--find-links /wheels" \
  --build-arg STORY_TIERS="$STORY_TIERS" \
  -v "$TORCH_WHEELS:/wheels:ro" \
  -v "${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}:/etc/ssl/certs/ca-certificates.crt:ro" .
echo "image: built $IMAGE (story tiers: $STORY_TIERS) in $(($(date +%s) - start)) s;" \
  "size $(buildah images --format '{{.Size}}' "$IMAGE")"
