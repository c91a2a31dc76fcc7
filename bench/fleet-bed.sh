#!/usr/bin/env bash
# fleet-bed.sh - a fleet of N cheap hosts for bench/fleet.ts: each host is a network namespace
# with only an sshd; every host's docker CLI talks to ONE shared real dockerd (in a netns of its
# own), so every host reads the same real containers. Names and addresses do not collide with
# test/bed/testbed.sh: prefix mkf, bridge mkf-br0, network 10.232.0.0/16.
#
#   fleet-bed.sh up N     create hosts 1..N (idempotent), the shared dockerd and its containers
#   fleet-bed.sh down     remove everything up created (every process by its pid file, checked)
#   fleet-bed.sh env      shell exports: FLEET_DIR, FLEET_HOSTS (space separated), FLEET_KEY, ...
# $BASE/hosts lists the host addresses, one a line; $BASE/id_ed25519 and $BASE/known_hosts are
# what a client needs.
#
# How a host's docker reaches the shared daemon: sshd (PermitUserEnvironment yes) sets
# DOCKER_HOST from the authorized_keys line's environment= option. AuthorizedKeysFile and the
# host key live in $BASE (StrictModes no: /tmp is world-writable), so /root/.ssh is never touched.
# The nodes have no default route: nothing can leave 10.232.0.0/16.
set -euo pipefail

BASE=${FLEET_DIR:-/tmp/mkf-bed}
PREFIX=${FLEET_PREFIX:-mkf}
BR=${PREFIX}-br0
BR_IP=10.232.0.1
DOCKER_NS=${PREFIX}-docker
SOCK=$BASE/docker.sock

log() { printf '[fleet %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
host_ip() { echo "10.232.$(( 1 + ($1 - 1) / 200 )).$(( 10 + ($1 - 1) % 200 ))"; }
ns_name() { echo "${PREFIX}-h$1"; }
veth_name() { echo "${PREFIX}-v$1"; }
wait_for() { # wait_for SECONDS CMD...
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do (( $(date +%s) < end )) || return 1; sleep 0.1; done
}
# pid_from FILE COMM : the pid in FILE when that process is alive and named COMM
pid_from() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1"); [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$2" ]] || return 1
  echo "$pid"
}
fdocker() { DOCKER_HOST=unix://$SOCK docker "$@"; }

up() {
  local n=${1:?usage: fleet-bed.sh up N} i ns ip veth
  [[ $EUID -eq 0 ]] || die "must run as root"
  mkdir -p "$BASE"/{pids,log}; chmod 700 "$BASE"
  [[ -s $BASE/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C fleet-deployer -f "$BASE/id_ed25519"
  [[ -s $BASE/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C fleet-host -f "$BASE/host_ed25519"
  printf 'environment="DOCKER_HOST=unix://%s" %s\n' "$SOCK" "$(<"$BASE/id_ed25519.pub")" >"$BASE/authorized_keys"
  cat >"$BASE/sshd_config" <<CONF
HostKey $BASE/host_ed25519
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $BASE/authorized_keys
StrictModes no
PermitUserEnvironment yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
PrintLastLog no
MaxStartups 200:30:400
MaxSessions 100
CONF
  # the bridge
  if ! ip link show "$BR" >/dev/null 2>&1; then ip link add "$BR" type bridge; fi
  ip addr replace "$BR_IP/16" dev "$BR"; ip link set "$BR" up
  # the shared dockerd, in a netns of its own (no bridge, no iptables: it only has to list)
  if ! pid_from "$BASE/pids/dockerd" dockerd >/dev/null; then
    [[ -e /run/netns/$DOCKER_NS ]] || ip netns add "$DOCKER_NS"
    # nsenter, not ip netns exec: that remounts /sys and hides the cgroups dockerd needs
    setsid nsenter --net="/run/netns/$DOCKER_NS" dockerd --data-root "$BASE/docker" --exec-root "$BASE/dexec" \
      --pidfile "$BASE/pids/dockerd" -H "unix://$SOCK" --bridge=none --iptables=false --ip-masq=false \
      --ip-forward=false --cgroup-parent "/$PREFIX" --exec-opt native.cgroupdriver=cgroupfs \
      </dev/null >>"$BASE/log/dockerd.log" 2>&1 &
    wait_for 60 fdocker version || die "dockerd not ready: $BASE/log/dockerd.log"
  fi
  # what the hosts read: an image imported from busybox-static, and containers of the bench's
  # service (created, not started: listing them is all a probe does)
  if ! fdocker image inspect mkf/app:v1 >/dev/null 2>&1; then
    local root; root=$(mktemp -d)
    mkdir -p "$root/bin"; cp /bin/busybox "$root/bin/busybox"; ln -s busybox "$root/bin/sh"
    tar -C "$root" -c . | fdocker import -c 'CMD ["/bin/sh"]' - mkf/app:v1 >/dev/null
    rm -rf "$root"
  fi
  for role in web job; do
    fdocker container inspect "fleet-$role-v1" >/dev/null 2>&1 ||
      fdocker create --name "fleet-$role-v1" --label mrsk.service=fleet --label "mrsk.role=$role" \
        --label mrsk.destination= --label mrsk.version=v1 mkf/app:v1 sleep 1000 >/dev/null
  done
  # the hosts
  : >"$BASE/known_hosts"; : >"$BASE/hosts"
  for ((i = 1; i <= n; i++)); do
    ns=$(ns_name "$i"); ip=$(host_ip "$i"); veth=$(veth_name "$i")
    [[ -e /run/netns/$ns ]] || ip netns add "$ns"
    ip -n "$ns" link set lo up
    if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
      ip link del "$veth" 2>/dev/null || true
      ip link add "$veth" type veth peer name eth0 netns "$ns"
    fi
    ip link set "$veth" master "$BR" up
    ip -n "$ns" addr replace "$ip/16" dev eth0
    ip -n "$ns" link set eth0 up
    if ! pid_from "$BASE/pids/h$i" sshd >/dev/null; then
      ip netns exec "$ns" /usr/sbin/sshd -f "$BASE/sshd_config" -o "ListenAddress=$ip:22" -o "PidFile=$BASE/pids/h$i" -E "$BASE/log/sshd-h$i.log"
    fi
    printf '%s %s\n' "$ip" "$(cut -d' ' -f1,2 "$BASE/host_ed25519.pub")" >>"$BASE/known_hosts"
    echo "$ip" >>"$BASE/hosts"
  done
  echo "$n" >"$BASE/count"
  wait_for 30 ssh -i "$BASE/id_ed25519" -o UserKnownHostsFile="$BASE/known_hosts" -o BatchMode=yes "root@$(host_ip "$n")" true ||
    die "host $n not reachable over ssh"
  log "up: $n hosts, dockerd at $SOCK"
}

down() {
  local pidfile pid ns
  [[ -d $BASE ]] || { log "down: nothing to do"; return 0; }
  for pidfile in "$BASE"/pids/h*; do
    [[ -e $pidfile ]] || continue
    if pid=$(pid_from "$pidfile" sshd); then kill "$pid" 2>/dev/null || true; fi
  done
  if pid=$(pid_from "$BASE/pids/dockerd" dockerd); then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do [[ -d /proc/$pid ]] || break; sleep 0.05; done
  fi
  for ns in $(ls /run/netns 2>/dev/null | grep -E "^${PREFIX}-(h[0-9]+|docker)$" || true); do ip netns del "$ns" 2>/dev/null || true; done
  ip link del "$BR" 2>/dev/null || true
  # dockerd's data root may hold overlay mounts until it has exited
  umount -R "$BASE/dexec" 2>/dev/null || true
  rm -rf "$BASE"
  log "down: removed"
}

env_() {
  local n i hosts=()
  n=$(<"$BASE/count")
  for ((i = 1; i <= n; i++)); do hosts+=("$(host_ip "$i")"); done
  printf 'export FLEET_DIR=%q FLEET_KEY=%q FLEET_KNOWN_HOSTS=%q FLEET_HOSTS=%q\n' "$BASE" "$BASE/id_ed25519" "$BASE/known_hosts" "${hosts[*]}"
}

case ${1:-} in
  up) up "${2:-10}" ;;
  down) down ;;
  env) env_ ;;
  *) echo "usage: fleet-bed.sh up N | down | env" >&2; exit 64 ;;
esac
