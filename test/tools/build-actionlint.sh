#!/usr/bin/env bash
# build-actionlint.sh: build actionlint (the GitHub Actions workflow checker) from the Go module
# proxy, cached by version outside the repository (like build-traefik.sh caches Traefik).
# Prints the path of the binary on stdout.
set -euo pipefail
VERSION=${ACTIONLINT_VERSION:-v1.7.12}
CACHE=${MRSK_CACHE_DIR:-/var/cache/mrsk}
BIN=$CACHE/actionlint-$VERSION
if [[ -x $BIN ]] && "$BIN" -version >/dev/null 2>&1; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build-actionlint: go is not installed" >&2; exit 1; }
mkdir -p "$CACHE"
t0=$(date +%s)
work=$(mktemp -d "$CACHE/actionlint-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# go install puts the binary in GOBIN; build into a private folder, then move it into place.
GOBIN="$work" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" \
  "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
mv "$work/actionlint" "$BIN"
echo "build-actionlint: built $VERSION in $(( $(date +%s) - t0 ))s" >&2
echo "$BIN"
