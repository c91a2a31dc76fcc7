#!/usr/bin/env bash
# demo.sh (`npm run demo`): the whole tour on one machine. Installs what is missing, brings up three
# test hosts, a registry, a builder and Pebble, Let's Encrypt's test CA (test/bed/testbed.sh), builds
# the real Traefik (cached) and the example app, then runs `mrsk plan` and `mrsk deploy` against
# fixtures/e2e/deploy.yml (hosts 1 and 2) and curls the app through Traefik on each host, and
# deploys examples/https/deploy.yml to host 3: served over HTTPS with a certificate from Pebble.
# The bed stays up afterwards so you can look around.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
declare -A took
timed() { local t0; t0=$(date +%s); "${@:2}"; took[$1]=$(( $(date +%s) - t0 )); }
started=$(date +%s)

[[ $EUID -eq 0 ]] || die "the test bed creates network namespaces and runs dockerd: run as root (sudo npm run demo)"
if [[ ! -d node_modules/tsx ]]; then say "npm dependencies"; npm ci --no-audit --no-fund; fi

say "Debian packages (installed only if missing)"
timed packages bash test/bed/install-deps.sh
say "Test bed: 3 hosts, registry, builder, Pebble (an ACME CA)"
timed bed bash test/bed/testbed.sh up 3
say "Traefik: built from source once (several minutes on 2 cores), then cached in /var/cache/mrsk"
timed traefik bash test/bed/traefik-image.sh
say "Example app v1 (fixtures/app), built on the bed's builder and pushed"
timed app bash test/bed/build-app.sh v1

bed_env=$(bash test/bed/testbed.sh env) || die "the test bed is not up"
eval "$bed_env"
# What fixtures/e2e/deploy.yml reads from the environment (the builder node does mrsk's builds),
# kept in the bed's folder so later commands use the same secret (another value is a change).
demo_env=$MRSK_TESTBED_DIR/demo.env
if [[ ! -s $demo_env ]]; then
  (umask 077
   printf 'export APP_SECRET=%q\n' "demo-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')"
   printf 'export MRSK_APP_CONTEXT=%q\n' "$PWD/fixtures/app"
   printf 'export DOCKER_HOST=%q DOCKER_CONFIG=%q DOCKER_BUILDKIT=0\n' \
     "$MRSK_TESTBED_BUILDER_DOCKER_HOST" "$MRSK_TESTBED_BUILDER_DOCKER_CONFIG") >"$demo_env"
fi
. "$demo_env"
mrsk() { node bin/mrsk.js "$@" -c fixtures/e2e/deploy.yml; }
# fixtures/e2e/deploy.yml runs on hosts 1 and 2; host 3 is the HTTPS example's
http_hosts="$MRSK_TESTBED_HOST1 $MRSK_TESTBED_HOST2"

# plan and deploy are being written: say so plainly instead of failing somewhere inside
help=$(node bin/mrsk.js --help 2>&1 || true)
for command in plan deploy; do
  [[ $help =~ (^|$'\n')[[:space:]]+$command[[:space:]] ]] ||
    die "\`mrsk $command\` is not available yet (not registered in src/cli/registry.ts). The bed is up; tear it down with: bash test/bed/testbed.sh down"
done

say "mrsk plan --version v1 (read-only: what a first deploy will do)"
t0=$(date +%s)
code=0; mrsk plan --version v1 --detailed-exitcode || code=$?
(( code == 0 || code == 2 )) || die "mrsk plan failed (exit $code)"
say "mrsk deploy --version v1 --skip-push (the image is already in the registry)"
mrsk deploy --version v1 --skip-push
took[mrsk]=$(( $(date +%s) - t0 ))

say "The app through Traefik on each host"
failed=0
for ip in $http_hosts; do
  if answer=$(curl -fsS --max-time 5 "http://$ip/"); then
    printf '  curl http://%s/  ->  %s\n' "$ip" "$answer"
  else
    printf '  curl http://%s/  ->  FAILED\n' "$ip"; failed=1
  fi
done

# The point of mrsk: a new version rolls out while traffic flows, and not one request fails.
next=v2; [[ $(curl -fsS --max-time 5 "http://$MRSK_TESTBED_HOST1/" || true) == v2* ]] && next=v3
say "mrsk deploy of $next (built and pushed by mrsk) while curl sends 20 requests/s to each host"
load_log=$(mktemp)
( end=$(( $(date +%s) + 120 ))
  while [[ ! -e $load_log.stop ]] && (( $(date +%s) < end )); do
    for ip in $http_hosts; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 2 "http://$ip/" >>"$load_log" &
    done
    sleep 0.05
  done; wait ) &
load_pid=$!
VERSION=$next mrsk deploy || failed=1
touch "$load_log.stop"; wait "$load_pid" 2>/dev/null || true
sent=$(wc -l <"$load_log"); bad=$(grep -cv '^200$' "$load_log" || true)
printf '\n  %s requests during the deploy, %s failed\n' "$sent" "$bad"
(( bad == 0 )) || failed=1
rm -f "$load_log" "$load_log.stop"
for ip in $http_hosts; do printf '  curl http://%s/  ->  %s\n' "$ip" "$(curl -fsS --max-time 5 "http://$ip/" || echo FAILED)"; done

say "mrsk plan (the hosts now match the configuration)"
mrsk plan || failed=1

# HTTPS: the example app as hello on host 3 under app.test, a certificate from Pebble through the
# HTTP-01 challenge on port 80 (the bed's DNS answers app.test with host 3, as public DNS would).
say "HTTPS: mrsk deploy -c examples/https/deploy.yml (proxy: host app.test, ssl: true)"
t0=$(date +%s)
bash test/bed/testbed.sh dns-add app.test "$MRSK_TESTBED_HOST3"
node bin/mrsk.js deploy -c examples/https/deploy.yml --version v1 --skip-push || failed=1
# clients trust the root that signs what Pebble issues (Pebble's management API, itself verified)
root_pem=$MRSK_TESTBED_DIR/pebble-root.pem
curl -fsS --max-time 5 --cacert "$MRSK_TESTBED_PEBBLE_CA" "$MRSK_TESTBED_PEBBLE_MANAGEMENT/roots/0" >"$root_pem" ||
  die "Pebble's management API did not give its root"
try_https=(curl -fsS --max-time 5 --cacert "$root_pem" --resolve "app.test:443:$MRSK_TESTBED_HOST3" https://app.test/)
# Traefik orders the certificate when the route appears: it is served a few seconds after the deploy
deadline=$(( $(date +%s) + 60 ))
until answer=$("${try_https[@]}" 2>/dev/null); do
  (( $(date +%s) < deadline )) || { printf '  https://app.test/  ->  FAILED (no certificate from Pebble after 60s)\n'; failed=1; break; }
  sleep 0.5
done
[[ -n ${answer:-} ]] && printf '  https://app.test/  ->  %s  (certificate from Pebble, %ss after the deploy started)\n' "$answer" "$(( $(date +%s) - t0 ))"
redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 --resolve "app.test:80:$MRSK_TESTBED_HOST3" http://app.test/ || true)
printf '  http://app.test/   ->  %s\n' "$redirect"
took[https]=$(( $(date +%s) - t0 ))

# a throwaway bed (TESTBED_* set) needs the same variables in the commands shown below
bedvars=""
for v in TESTBED_PREFIX TESTBED_NET TESTBED_DIR; do [[ -z ${!v:-} ]] || bedvars+="$v=${!v} "; done
cat <<MSG

Timings: packages ${took[packages]}s, bed ${took[bed]}s, traefik ${took[traefik]}s, app ${took[app]}s, plan + deploy ${took[mrsk]}s, https ${took[https]}s, total $(( $(date +%s) - started ))s.

Try HTTPS (verified with Pebble's root, nothing skipped):
  ${try_https[*]}

Look around:
  ${bedvars}bash test/bed/testbed.sh status            hosts, daemons, memory
  ${bedvars}bash test/bed/testbed.sh enter 1           a root shell "on" host 1 (docker ps, ls ~/.mrsk ...)
  ssh -F $MRSK_TESTBED_SSH_CONFIG ${MRSK_TESTBED_PREFIX}-h1 docker ps
  eval "\$(${bedvars}bash test/bed/testbed.sh env)"; . $demo_env
  node bin/mrsk.js details -c fixtures/e2e/deploy.yml
  node bin/mrsk.js plan -c fixtures/e2e/deploy.yml   (now: no changes)
  VERSION=v9 node bin/mrsk.js deploy -c fixtures/e2e/deploy.yml        (build, push, roll out v9)
  node bin/mrsk.js rollback v1 -c fixtures/e2e/deploy.yml
  node bin/mrsk.js plan -c examples/https/deploy.yml      (the HTTPS app on host 3)

Tear down (removes hosts, registry, everything):
  ${bedvars}bash test/bed/testbed.sh down
MSG
exit "$failed"
