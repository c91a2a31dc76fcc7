#!/usr/bin/env bash
# install-deps.sh: the Debian packages the test bed needs, installed only if missing.
# Idempotent and quick when all is there (one dpkg query, no network). --no-install-recommends
# keeps a fresh machine lean. Nothing auto-starts without systemd, so nothing is stopped either;
# on a systemd machine, see the note in testbed.sh about the packaged registry on *:5000.
set -euo pipefail
# redis-tools: the Redis binary that redis-image.sh packs as the e2e accessory (no daemon starts)
# podman ... aardvark-dns: rootful Podman for `testbed.sh up --podman` (Debian 12: Podman 4.3.1).
# Without recommends podman pulls in conmon, runc (or crun) and containers-common, but no network
# backend: netavark (+ aardvark-dns, the name server of its networks) is named here, or Podman would
# fall back to CNI. Nothing else is needed rootful (slirp4netns, uidmap, fuse-overlayfs are rootless).
PACKAGES=(docker.io openssh-server openssh-client docker-registry iproute2 iptables busybox-static curl
  apache2-utils util-linux procps openssl redis-tools podman runc conmon netavark aardvark-dns)
t0=$(date +%s.%N)
missing=()
for p in "${PACKAGES[@]}"; do
  # "install ok installed" is dpkg's status of a fully installed package
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$p")
done
if (( ${#missing[@]} )); then
  [[ $EUID -eq 0 ]] || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Traefik and Pebble are built from source by build-traefik.sh and build-pebble.sh (once; cached
# in /var/cache/mrsk). Both need Go >= 1.25, newer than Debian 12's golang-go (1.19), so Go is
# not installed here: say early and clearly when the build would fail.
TRAEFIK_GO_MIN=1.25
if ! ls "${MRSK_CACHE_DIR:-/var/cache/mrsk}"/traefik-v* "${MRSK_CACHE_DIR:-/var/cache/mrsk}"/pebble-v*/.complete >/dev/null 2>&1; then
  go_version=$(go env GOVERSION 2>/dev/null | sed 's/^go//' || true)
  if [[ -z $go_version ]] || [[ $(printf '%s\n' "$TRAEFIK_GO_MIN" "$go_version" | sort -V | head -1) != "$TRAEFIK_GO_MIN" ]]; then
    echo "install-deps: WARNING: building Traefik and Pebble needs Go >= $TRAEFIK_GO_MIN on PATH (found: ${go_version:-none})" >&2
  fi
fi
echo "time: install-deps $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s (${#missing[@]} missing: ${missing[*]:-none})" >&2
