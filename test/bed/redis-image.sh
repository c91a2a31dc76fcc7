#!/usr/bin/env bash
# redis-image.sh [--force]: the accessory image of the e2e suite. Debian's Redis (the binary and
# the shared libraries it links, nothing else) packed into an image on the bed's builder and
# pushed as <registry>/redis:bed. Skipped when the registry already has that tag built from this
# Redis package by this script (a label records both). Prints the image reference on stdout.
#
# The binary comes from Debian's redis-tools package (install-deps.sh installs it): Redis is one
# multi-call binary there, and the redis-server package only adds a symlink to it plus an init
# script that would start a Redis on this machine, which the bed has no use for. Started under
# any name but redis-check-rdb/-aof, the binary is the server.
#
# The image is FROM scratch (made with `docker import`, nothing pulled): /usr/bin/redis-server,
# /usr/bin/redis-cli (so a test can ask the server directly with `docker exec`), their libraries
# at the paths ldd names, busybox-static as /bin/busybox with its applets (a shell for exec), and
# an empty /data. The default command keeps its data in /data with an append-only file, so keys
# survive a restart whenever /data is a host directory (an accessory's `directories`), and
# accepts clients on the container network (protected mode refuses them when no password is set).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
force=0; [[ ${1:-} == --force ]] && force=1
TAG=${REDIS_IMAGE_TAG:-bed}
bed_env=$(bash "$here/testbed.sh" env) || exit 1  # (fails when no bed is up)
eval "$bed_env"
image=$MRSK_TESTBED_REGISTRY/redis:$TAG
export DOCKER_HOST=$MRSK_TESTBED_BUILDER_DOCKER_HOST DOCKER_CONFIG=$MRSK_TESTBED_BUILDER_DOCKER_CONFIG

t0=$(date +%s.%N)
bin=/usr/bin/redis-check-rdb
package=$(dpkg-query -W -f='${Version}' redis-tools 2>/dev/null || true)
[[ -x $bin && -n $package ]] ||
  { echo "redis-image: Debian's redis-tools is not installed (run test/bed/install-deps.sh)" >&2; exit 1; }
# what the pushed image is: the package version and this recipe (any edit here rebuilds)
build_id="$package+$(sha256sum "$0" | cut -c1-12)"

# registry_label : the build id recorded in the pushed image's config, empty if none.
# (curl reads the login from stdin, so the password is not on a command line)
registry_label() {
  local auth="user = \"$MRSK_TESTBED_REGISTRY_USER:$MRSK_REGISTRY_PASSWORD\"" manifest digest
  manifest=$(curl -fsS -K - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$MRSK_TESTBED_REGISTRY/v2/redis/manifests/$TAG" <<<"$auth" 2>/dev/null) || return 0
  digest=$(sed -n 's/.*"config":{[^}]*"digest":"\([^"]*\)".*/\1/p' <<<"${manifest//[$'\n\t ']/}")
  [[ -n $digest ]] || return 0
  curl -fsS -K - "http://$MRSK_TESTBED_REGISTRY/v2/redis/blobs/$digest" <<<"$auth" 2>/dev/null |
    sed -n 's/.*"mrsk.redis-build":"\([^"]*\)".*/\1/p'
}
if (( !force )) && [[ $(registry_label) == "$build_id" ]]; then
  echo "redis-image: $image (redis-tools $package) already in the registry" >&2
  echo "$image"; exit 0
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/bin" "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/data" "$rootfs/root"
chmod 1777 "$rootfs/tmp"
cp "$bin" "$rootfs/usr/bin/redis-server"
cp /usr/bin/redis-cli "$rootfs/usr/bin/redis-cli"
# every library either binary loads, and the loader, at the paths ldd resolved them to (-L: the
# file, not Debian's symlink to it; --parents: the same folders inside the image)
libs=$(ldd "$bin" /usr/bin/redis-cli | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' | sort -u)
[[ -n $libs ]] || { echo "redis-image: ldd named no libraries for $bin" >&2; exit 1; }
for lib in $libs; do cp -L --parents "$lib" "$rootfs/"; done
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
# the binaries must start inside the image, not just here: a missing library fails the build
if ! out=$(chroot "$rootfs" /usr/bin/redis-server --version 2>&1); then
  echo "$out" >&2; echo "redis-image: redis-server does not start in the image's root" >&2; exit 1
fi
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'WORKDIR /data' --change 'EXPOSE 6379' \
  --change 'CMD ["redis-server", "--dir", "/data", "--appendonly", "yes", "--protected-mode", "no"]' \
  --change "LABEL mrsk.redis-build=\"$build_id\" org.opencontainers.image.version=\"$package\"" \
  - "$image" >/dev/null
out=$(docker push -q "$image" 2>&1) || { echo "$out" >&2; echo "redis-image: push failed" >&2; exit 1; }
echo "redis-image: pushed $image (redis-tools $package) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s" >&2
echo "$image"
