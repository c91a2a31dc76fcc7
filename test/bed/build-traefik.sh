#!/usr/bin/env bash
# build-traefik.sh: build the real Traefik binary from the Go module proxy, cached by version.
#
# `go install module@version` refuses modules whose go.mod has replace directives (Traefik's
# does), so the module is downloaded, copied somewhere writable and built as the main module.
# v3.7+ replaces a nested module with a local path that module zips leave out, so the 3.6 line
# is the newest that builds this way; v3.6.12 is the newest 3.6 the module proxy serves here.
# Prints the path of the binary on stdout.
set -euo pipefail
VERSION=${TRAEFIK_VERSION:-v3.6.12}
CACHE=${MRSK_CACHE_DIR:-/var/cache/mrsk}
BIN=$CACHE/traefik-$VERSION
if [[ -x $BIN ]] && "$BIN" version >/dev/null 2>&1; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build-traefik: go is not installed" >&2; exit 1; }
mkdir -p "$CACHE"
t0=$(date +%s)
work=$(mktemp -d "$CACHE/traefik-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n $dir && -d $dir ]] || { echo "build-traefik: go mod download gave no directory" >&2; exit 1; }
cp -r "$dir" "$work/src"; chmod -R u+w "$work/src"
(cd "$work/src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath \
  -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${VERSION#v}" \
  -o "$BIN.tmp" ./cmd/traefik) >&2
mv "$BIN.tmp" "$BIN"
echo "build-traefik: built $VERSION in $(( $(date +%s) - t0 ))s" >&2
echo "$BIN"
