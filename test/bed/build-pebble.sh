#!/usr/bin/env bash
# build-pebble.sh: build Let's Encrypt's test CA, Pebble, and its DNS/challenge test server
# (pebble-challtestsrv) from the Go module proxy, cached by version outside the repository
# (like build-traefik.sh). Pebble's go.mod has no replace directives, so a plain `go install`
# builds both. Pebble's TLS material (test/certs: the "minica" root that signs Pebble's own HTTPS
# certificate, and its key) is copied next to the binaries, so the bed does not depend on the
# Go module cache staying around.
# Prints the cache folder on stdout: pebble, pebble-challtestsrv, certs/pebble.minica.pem, ...
set -euo pipefail
VERSION=${PEBBLE_VERSION:-v2.10.3}
CACHE=${MRSK_CACHE_DIR:-/var/cache/mrsk}
DIR=$CACHE/pebble-$VERSION
MODULE=github.com/letsencrypt/pebble/v2
# the done marker is written last: a half-finished build never counts as cached
if [[ -e $DIR/.complete && -x $DIR/pebble && -x $DIR/pebble-challtestsrv && -s $DIR/certs/pebble.minica.pem ]]; then
  echo "$DIR"; exit 0
fi
command -v go >/dev/null || { echo "build-pebble: go is not installed" >&2; exit 1; }
mkdir -p "$CACHE"
t0=$(date +%s)
work=$(mktemp -d "$CACHE/pebble-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# go install puts binaries in GOBIN; build into a private folder, then move the whole folder
GOBIN="$work/out" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" \
  "$MODULE/cmd/pebble@$VERSION" "$MODULE/cmd/pebble-challtestsrv@$VERSION" >&2
src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n $src && -s $src/test/certs/pebble.minica.pem ]] ||
  { echo "build-pebble: no test/certs/pebble.minica.pem in the $MODULE@$VERSION module" >&2; exit 1; }
cp -r "$src/test/certs" "$work/out/certs"; chmod -R u+w,go-w "$work/out/certs"
for b in pebble pebble-challtestsrv; do
  [[ -x $work/out/$b ]] || { echo "build-pebble: go install left no $b binary" >&2; exit 1; }
done
touch "$work/out/.complete"
rm -rf "$DIR"; mv "$work/out" "$DIR"
echo "build-pebble: built $VERSION in $(( $(date +%s) - t0 ))s" >&2
echo "$DIR"
