#!/usr/bin/env bash
# test/run.sh SUITE: runs a test suite, setting up what it needs first.
#   unit         type check + pure unit tests (no daemons) + the Kamal conformance suite (test/conformance/)
#   integration  tests against a real sshd on loopback (installs openssh-server if missing)
#   e2e          the test bed: hosts in network namespaces, registry, real Traefik (needs root)
#   faults       faults under load (test/faults/) on a 3-host bed of its own (needs root)
#   package      npm pack → npm install -g into a temp prefix → the installed mrsk runs (test/package/)
#   all          all of the above, in that order (what `npm test` and CI run)
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
suite=${1:-all}
started=$(date +%s)
declare -A took

# A fresh clone: install the npm dependencies first, so `npm test` is the one command to run.
if [[ ! -d node_modules/tsx ]]; then npm ci --no-audit --no-fund; fi

run_node_tests() { # run_node_tests NAME FILES...
  local name=$1; shift
  if (( $# == 0 )); then echo "no $name tests found" >&2; return 1; fi
  local t0; t0=$(date +%s)
  node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-reporter=spec "$@"
  took[$name]=$(( $(date +%s) - t0 ))s
}

unit() {
  local t0; t0=$(date +%s)
  npx tsc --noEmit
  took[typecheck]=$(( $(date +%s) - t0 ))s
  # actionlint over the workflows and CI examples (built from the Go module proxy once, cached)
  timed workflows bash test/tools/check-workflows.sh
  run_node_tests unit test/unit/**/*.test.ts
  # Kamal conformance: deploy.yml files written from Kamal's documentation, with golden specs
  run_node_tests conformance test/conformance/**/*.test.ts
}
# The package users install: built, packed, installed into a clean prefix, run (npm registry needed)
package() { run_node_tests package test/package/**/*.test.ts; }
integration() {
  timed install-deps bash test/bed/install-deps.sh
  run_node_tests integration test/integration/**/*.test.ts
}
# timed NAME CMD... : run CMD and record its duration under NAME
timed() { local t0; t0=$(date +%s); "${@:2}"; took[$1]=$(( $(date +%s) - t0 ))s; }
bed_up=no
bed_setup() {
  timed install-deps-e2e bash test/bed/install-deps.sh
  # the bed comes down on any exit, so a failing suite leaves no hosts behind
  bed_up=yes
  # Pebble (the bed's ACME CA) is built here so its time shows apart; `up` starts it (cached by version)
  timed pebble-build bash test/bed/build-pebble.sh >/dev/null
  timed bed-setup bash test/bed/testbed.sh up 2
  timed traefik-build bash test/bed/build-traefik.sh >/dev/null   # cached by version after the first build
  timed traefik-image bash test/bed/traefik-image.sh >/dev/null
  timed redis-image bash test/bed/redis-image.sh >/dev/null   # the accessories e2e's Redis (cached)
}
e2e() {
  [[ $bed_up == yes ]] || bed_setup
  # this run owns its bed (suites run one at a time), so the Traefik reboot tests may restart it
  MRSK_E2E_TRAEFIK_REBOOT=${MRSK_E2E_TRAEFIK_REBOOT:-1} TEST_CONCURRENCY=1 run_node_tests e2e test/e2e/**/*.test.ts
}
# The fault suite brings up its own 3-host bed (another prefix and network than e2e's, so the two
# never share hosts), after e2e's bed is down; its test file takes it down again.
FAULTS_BED=(TESTBED_PREFIX="${FAULTS_TESTBED_PREFIX:-mrskf}" TESTBED_NET="${FAULTS_TESTBED_NET:-10.231.8}" TESTBED_DIR="${FAULTS_TESTBED_DIR:-/tmp/mrskf-bed}")
faults_up=no
faults() {
  if [[ $bed_up == yes ]]; then bash test/bed/testbed.sh down; bed_up=no; fi
  [[ -n ${took[install-deps-e2e]:-} ]] || timed install-deps-e2e bash test/bed/install-deps.sh
  timed traefik-build bash test/bed/build-traefik.sh >/dev/null   # cached by version
  timed pebble-build bash test/bed/build-pebble.sh >/dev/null     # cached by version
  faults_up=yes
  local t0; t0=$(date +%s)
  # the harness brings the bed up (testbed.sh up 3, Traefik image, app) with these in its environment
  ( export "${FAULTS_BED[@]}" MRSK_E2E_TRAEFIK_REBOOT=0
    node --import tsx --test --test-concurrency=1 --test-reporter=spec test/faults/**/*.test.ts )
  took[faults]=$(( $(date +%s) - t0 ))s
}

# On every exit (failures too): take the bed down if e2e brought it up, then print the times.
finish() {
  local status=$?
  if [[ $bed_up == yes ]]; then bash test/bed/testbed.sh down || status=1; fi
  if [[ $faults_up == yes ]]; then env "${FAULTS_BED[@]}" bash test/bed/testbed.sh down || status=1; fi
  for k in "${!took[@]}"; do echo "time: $k ${took[$k]}"; done
  echo "time: total $(( $(date +%s) - started ))s"
  exit "$status"
}
trap finish EXIT

case $suite in
  unit) unit ;;
  package) package ;;
  integration) integration ;;
  e2e) e2e ;;
  faults) faults ;;
  # the bed comes up before the integration suite, whose probe test reads a real dockerd on it
  all) unit; package; bed_setup; integration; e2e; faults ;;
  *) echo "usage: test/run.sh unit|package|integration|e2e|faults|all" >&2; exit 64 ;;
esac
