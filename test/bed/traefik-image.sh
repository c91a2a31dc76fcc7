#!/usr/bin/env bash
# traefik-image.sh [--force]: pack the real Traefik binary (built and cached by build-traefik.sh)
# into an image and push it to the bed's registry as <registry>/traefik:v3.6, the tag the e2e
# config uses. Skipped when the registry already has that tag for this Traefik version.
#
# The image is FROM scratch (made with `docker import`, nothing pulled): /traefik (static) and
# busybox-static as /bin/busybox with /bin/sh and /bin/wget, because mrsk reads Traefik's API
# with `docker exec traefik wget -q -O - http://127.0.0.1:8080/api/...`. Entrypoint /traefik.
# Prints the image reference on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
force=0; [[ ${1:-} == --force ]] && force=1
TAG=${TRAEFIK_IMAGE_TAG:-v3.6}
bed_env=$(bash "$here/testbed.sh" env) || exit 1  # (fails when no bed is up)
eval "$bed_env"
image=$MRSK_TESTBED_REGISTRY/traefik:$TAG
export DOCKER_HOST=$MRSK_TESTBED_BUILDER_DOCKER_HOST DOCKER_CONFIG=$MRSK_TESTBED_BUILDER_DOCKER_CONFIG

t0=$(date +%s.%N)
bin=$(bash "$here/build-traefik.sh")
version=$("$bin" version | awk '/^Version:/ { print $2 }')
[[ -n $version ]] || { echo "traefik-image: cannot read the version of $bin" >&2; exit 1; }

# registry_label : the Traefik version recorded in the pushed image's config, empty if none.
# (curl reads the login from stdin, so the password is not on a command line)
registry_label() {
  local auth="user = \"$MRSK_TESTBED_REGISTRY_USER:$MRSK_REGISTRY_PASSWORD\"" manifest digest
  manifest=$(curl -fsS -K - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$MRSK_TESTBED_REGISTRY/v2/traefik/manifests/$TAG" <<<"$auth" 2>/dev/null) || return 0
  digest=$(sed -n 's/.*"config":{[^}]*"digest":"\([^"]*\)".*/\1/p' <<<"${manifest//[$'\n\t ']/}")
  [[ -n $digest ]] || return 0
  curl -fsS -K - "http://$MRSK_TESTBED_REGISTRY/v2/traefik/blobs/$digest" <<<"$auth" 2>/dev/null |
    sed -n 's/.*"mrsk.traefik-version":"\([^"]*\)".*/\1/p'
}
if (( !force )) && [[ $(registry_label) == "$version" ]]; then
  echo "traefik-image: $image (Traefik $version) already in the registry" >&2
  echo "$image"; exit 0
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$bin" "$rootfs/traefik"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"; ln -s busybox "$rootfs/bin/wget"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -c . | docker import \
  --change 'ENTRYPOINT ["/traefik"]' --change 'EXPOSE 80 8080' \
  --change "LABEL mrsk.traefik-version=$version org.opencontainers.image.version=$version" \
  - "$image" >/dev/null
out=$(docker push -q "$image" 2>&1) || { echo "$out" >&2; echo "traefik-image: push failed" >&2; exit 1; }
echo "traefik-image: pushed $image (Traefik $version) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s" >&2
echo "$image"
