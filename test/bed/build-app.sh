#!/usr/bin/env bash
# build-app.sh VERSION [--broken]: build fixtures/app on the bed's builder node and push it as
# <registry>/demo-app:VERSION (--broken: an image whose /up never answers 200).
# Needs a bed that is up (testbed.sh up); the builder is already logged in to the registry.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-}; broken=0
[[ ${2:-} == --broken ]] && broken=1
[[ $version =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "usage: $0 VERSION [--broken]" >&2; exit 64; }
bed_env=$(bash "$here/testbed.sh" env) || exit 1  # (fails when no bed is up)
eval "$bed_env"
image=$MRSK_TESTBED_REGISTRY/demo-app:$version
export DOCKER_HOST=$MRSK_TESTBED_BUILDER_DOCKER_HOST DOCKER_CONFIG=$MRSK_TESTBED_BUILDER_DOCKER_CONFIG
# the machine's docker client may be newer than Debian's daemon and have no buildx
export DOCKER_BUILDKIT=0
t0=$(date +%s.%N)
# (output kept for failures only: the legacy builder prints a deprecation notice on every build)
if ! out=$(docker build -q --build-arg "BASE=$MRSK_TESTBED_REGISTRY/busybox:testbed" --build-arg "VERSION=$version" \
  --build-arg "BROKEN=$broken" -t "$image" "$here/../../fixtures/app" 2>&1); then
  echo "$out" >&2; echo "build-app: docker build failed" >&2; exit 1
fi
out=$(docker push -q "$image" 2>&1) || { echo "$out" >&2; echo "build-app: docker push failed" >&2; exit 1; }
echo "build-app: pushed $image$( ((broken)) && echo ' (broken)') in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s" >&2
echo "$image"
