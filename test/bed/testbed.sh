#!/usr/bin/env bash
# testbed.sh - mrsk's test bed: real hosts (network namespaces with their own sshd and dockerd,
# or rootful Podman), a registry with password auth, and a builder node, all on this one machine.
#
#   testbed.sh up [N] [--podman [M]]
#                       create (or repair) hosts mrsk-h1..mrsk-hN (default 2) with dockerd, then
#                       M more (default 1 with --podman) with rootful Podman and no dockerd:
#                       `up 2 --podman 1` = h1, h2 Docker + h3 Podman; `up 0 --podman 2` = Podman only.
#                       A node keeps the runtime it was made with ($BASE/hN/runtime): `up` again
#                       repairs it alike whatever the arguments say (`down` to change it).
#   testbed.sh down     remove everything `up` created (idempotent; leaves nothing behind)
#   testbed.sh status   what is running: pids, ssh reachability, RSS/PSS per host
#   testbed.sh env      shell exports for tests and humans: eval "$(testbed.sh env)"
#   testbed.sh enter I [CMD]  run CMD (default bash) inside node I (0 = builder), like a console
#   testbed.sh dns-add NAME IP...  the bed's DNS (pebble-challtestsrv) answers NAME with these IPs
#
# Every step of `up`, and `down` as a whole, logs its duration ("time: <step> <s>s") on stderr.
# Missing Debian packages: test/bed/install-deps.sh (test/run.sh and demo.sh call it).
#
# Topology (defaults; see the TESTBED_* variables below):
#
#   root netns: bridge mrsk-br0 10.231.7.1/24, registry on 10.231.7.1:5000 (plain HTTP, login)
#     ├─ veth-mrsk-bld  ⇄ eth0 10.231.7.2   netns mrsk-builder  dockerd (+sshd): build & push
#     ├─ veth-mrsk-h1   ⇄ eth0 10.231.7.11  netns mrsk-h1       dockerd + sshd
#     ├─ veth-mrsk-h2   ⇄ eth0 10.231.7.12  netns mrsk-h2       dockerd + sshd
#     └─ ...
#
# Every node (builder = node 0, hosts = nodes 1..N) is a network namespace plus a mount and
# a UTS namespace held open by a tiny "anchor" process (`sleep infinity`).  Inside, the
# well-known server paths are per-node bind mounts, so a node looks like a real server:
#
#   /run             <- $BASE/hN/run         /var/run/docker.sock, /run/sshd, /run/containerd, utmp
#   /var/lib/docker  <- $BASE/hN/docker      (== dockerd --data-root)
#   /etc/docker      <- $BASE/hN/etc-docker  per-node daemon.json, key.json
#   /root            <- $BASE/hN/root        per-node home: ~/.ssh/authorized_keys, ~/.mrsk, lock dirs
#   /etc/hosts, /etc/resolv.conf <- $BASE/hosts, $BASE/resolv.conf
#   /tmp             <- a private tmpfs (with $BASE bound back in at its own path)
#   /dev/shm         <- a private tmpfs (Podman's container locks live there)
#   /sys             <- a sysfs of the node's netns (+ the machine's /sys/fs/cgroup moved back in)
# Everything else (/usr, /etc, /var, /home ...) is the machine's own, shared by all nodes.
#
# Podman nodes (--podman) differ in three ways: no dockerd runs there (and the folders holding
# docker and dockerd are covered by read-only overlays without them, so `command -v docker`
# fails as on a server without Docker; Docker nodes get the same for podman); Podman's paths
# are per node as well:
#   /var/lib/containers <- $BASE/hN/containers      images, containers, volumes (storage.conf graphroot)
#   /etc/containers     <- $BASE/hN/etc-containers  containers.conf, storage.conf, registries.conf
#                                                   (the bed registry is insecure), policy.json, networks/
# and nothing of Podman runs until a client uses it: no `podman system service` (mrsk starts
# its own API service), no systemd (so no health-check timers and no podman-restart at boot).
# containers.conf pins cgroupfs and the file events logger (there is no systemd/journald), and
# sets default_ulimits within this machine's hard limits (nproc also within pid_max, conmon's):
# without CAP_SYS_RESOURCE here, runc cannot raise a container's nofile/nproc to Podman's
# defaults ("error setting rlimit").  (`podman run --ulimit X` replaces these defaults.)
# Podman's own state (/run/containers, /run/libpod, netavark's /run/netns/*) is under the node's
# /run, so a reboot (fresh /run) looks like one to Podman too.
#
# sshd and dockerd run inside that namespace set, so `ssh root@10.231.7.11 docker ps` reaches
# mrsk-h1's own dockerd through the default /var/run/docker.sock (no DOCKER_HOST needed), and
# `-v /var/run/docker.sock:/var/run/docker.sock` (Traefik, kamal-proxy) gets that host's own
# daemon, as on a real server.  dockerd is still given absolute per-node paths (--data-root,
# --exec-root, --pidfile, -H), so the root namespace can drive any daemon directly:
#   docker -H unix:///tmp/mrsk-testbed/h1/run/docker.sock ps
#   docker -H unix:///tmp/mrsk-testbed/builder/run/docker.sock build -t 10.231.7.1:5000/app .
#
# Why the builder dockerd has its own netns: the root namespace already has a dockerd whose
# --insecure-registry list lacks our registry, and we must not touch it.  A second dockerd in
# the SAME netns is not safe: started with --bridge=none it deletes the other daemon's docker0
# (moby removeDefaultBridgeInterface), and with a bridge both daemons would manage the same
# iptables chains.  In its own netns it is fully isolated, builds can even RUN, and the root
# namespace still drives it through its unix socket.
#
# Safety: nodes get NO default route and a resolv.conf naming the bridge address (where
# nothing answers DNS), so nothing in the test bed can send traffic beyond 10.231.7.0/24.
# Nothing is pulled from the internet: the base image is imported from busybox-static.
#
# Registry auth: htpasswd (bcrypt) with user `mrsk` and a generated password kept in
# $BASE/registry/password, so `docker login`, a wrong password and secret handling are real
# (an open registry accepts any login, which proves nothing).  The builder is logged in.
#
# Needs (Debian 12): see test/bed/install-deps.sh.  On a systemd machine the packages also
# start a system dockerd (harmless here) and a registry on *:5000, which blocks ours:
# `systemctl disable --now docker-registry`, or set TESTBED_REGISTRY_PORT.
# Tested on Debian 12, kernel 6.x (docker.io 20.10.24, containerd 1.6.20, OpenSSH 9.2).
set -euo pipefail

BASE=${TESTBED_DIR:-/tmp/mrsk-testbed}       # everything created on disk lives here
PREFIX=${TESTBED_PREFIX:-mrsk}               # names: netns mrsk-h1.., mrsk-builder, bridge mrsk-br0
NET=${TESTBED_NET:-10.231.7}                 # the private /24 (first three octets)
BR=${PREFIX}-br0
BR_IP=$NET.1
REGISTRY=$BR_IP:${TESTBED_REGISTRY_PORT:-5000}
REGISTRY_USER=mrsk
# Pebble (Let's Encrypt's test CA) and pebble-challtestsrv (its DNS), also on the bridge address
PEBBLE_PORT=${TESTBED_PEBBLE_PORT:-14000}            # ACME directory: https://$BR_IP:$PEBBLE_PORT/dir
PEBBLE_MGMT_PORT=${TESTBED_PEBBLE_MGMT_PORT:-15000}  # Pebble's management API (/roots/0, ...)
CHALL_DNS_PORT=${TESTBED_CHALL_DNS_PORT:-8053}       # challtestsrv DNS (UDP and TCP): Pebble's resolver
CHALL_MGMT_PORT=${TESTBED_CHALL_MGMT_PORT:-8055}     # challtestsrv management API (/add-a, /clear-a)
DOCKER=${DOCKER:-docker}                     # docker CLI used from the root namespace
# root-namespace iptables rule that lets node<->node traffic cross the bridge (ensure_forward_rule)
FW_RULE=(-i "$BR" -o "$BR" -m comment --comment "${PREFIX}-testbed" -j ACCEPT)

# node 0 is the builder, nodes 1..N are the hosts
ns_name()   { if (( $1 == 0 )); then echo "${PREFIX}-builder"; else echo "${PREFIX}-h$1"; fi; }
host_ip()   { if (( $1 == 0 )); then echo "$NET.2"; else echo "$NET.$((10 + $1))"; fi; }
host_dir()  { if (( $1 == 0 )); then echo "$BASE/builder"; else echo "$BASE/h$1"; fi; }
veth_name() { if (( $1 == 0 )); then echo "veth-${PREFIX}-bld"; else echo "veth-${PREFIX}-h$1"; fi; }
log()       { printf '[testbed %(%T)T] %s\n' -1 "$*" >&2; }
die()       { log "ERROR: $*"; exit 1; }
now()       { date +%s.%N; }
elapsed()   { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# step NAME CMD... : run one step of up/down and log how long it took
step()      { local t; t=$(now); "${@:2}"; log "time: $1 $(elapsed "$t")s"; }

# wait_for TIMEOUT_S DESCRIPTION CMD... : poll CMD every 0.1 s until it succeeds
wait_for() {
  local t=$1 what=$2; shift 2
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < end )) || { log "timed out after ${t}s waiting for: $what"; return 1; }
    sleep 0.1
  done
}

# alive PID : running and not a zombie.  Our daemons are re-parented to PID 1, and a PID 1
# that reaps lazily (this VM's init does) leaves them as zombies for a second or more after
# they exit, which `kill -0` still reports as alive.
alive() {
  local st; st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# in_node PID I : does process PID belong to node I?  Yes if it is in the node's netns, or if
# its /run is the node's run folder (same device:inode), i.e. it lives in the node's mount
# namespace.  Kernel identities, not names: a pid reused by someone else's process, or a
# look-alike from another test bed, never matches.
in_node() {
  local pid=$1 ns hd a
  ns=$(ns_name "$2"); hd=$(host_dir "$2")
  if [[ -e /run/netns/$ns ]]; then
    a=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) && [[ $a == "$(stat -L -c %i "/run/netns/$ns")" ]] && return 0
  fi
  [[ -d $hd/run ]] && a=$(stat -L -c %d:%i "/proc/$pid/root/run" 2>/dev/null) &&
    [[ $a == "$(stat -c %d:%i "$hd/run")" ]]
}

# pid_of PIDFILE COMM NODE : the pid in PIDFILE, if that process is alive, is named COMM and
# belongs to node NODE (or, with NODE = registry, is our registry; with NODE = root:TEXT, runs in
# the root namespace with TEXT in its command line).  Every kill goes through this, so a stale
# pid file never gets an unrelated process killed.
pid_of() {
  local f=$1 comm=$2 node=$3 pid
  [[ -s $f ]] || return 1
  pid=$(<"$f"); [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" && [[ $(<"/proc/$pid/comm") == "$comm" ]] || return 1
  [[ $node == registry ]] && node="root: $BASE/registry/config.yml"
  if [[ $node == root:* ]]; then
    [[ /proc/$pid/root -ef / && $(tr '\0' ' ' <"/proc/$pid/cmdline") == *"${node#root:}"* ]] || return 1
  else
    in_node "$pid" "$node" || return 1
  fi
  echo "$pid"
}

# stop_pid PID [TIMEOUT_S] : SIGTERM, wait, then SIGKILL
stop_pid() {
  local pid=$1 t=${2:-10} k
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((k = 0; k < t * 20; k++)); do alive "$pid" || return 0; sleep 0.05; done
  log "pid $pid ignored SIGTERM for ${t}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# docker CLI, from the root namespace, against node I's daemon (0 = builder)
# (DOCKER_CONFIG: the node's own /root/.docker, so a login made here is the node's login)
ndocker() {
  DOCKER_HOST="unix://$(host_dir "$1")/run/docker.sock" DOCKER_CONFIG="$(host_dir "$1")/root/.docker" \
    DOCKER_BUILDKIT=0 "$DOCKER" "${@:2}"
}
# ssh into node I exactly as a deploy tool would (key auth, pinned host keys)
nssh()    { ssh -F "$BASE/ssh_config" "$(ns_name "$1")" "${@:2}"; }

# cgroup directories of a node's containers (dockerd --cgroup-parent=/<netns name>)
cgroup_dirs() { find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$1" 2>/dev/null || true; }

existing_hosts() {  # numbers of the hosts that have a netns or a folder
  { ls /run/netns 2>/dev/null | sed -n "s/^${PREFIX}-h\([0-9]\+\)$/\1/p"
    ls "$BASE" 2>/dev/null | sed -n 's/^h\([0-9]\+\)$/\1/p'; } | sort -nu
}
existing_nodes() {  # the same, plus 0 for the builder when it exists
  { [[ -e /run/netns/$(ns_name 0) || -d $(host_dir 0) ]] && echo 0; existing_hosts; } || true
}

require() {
  [[ $EUID -eq 0 ]] || die "must run as root"
  local c
  for c in ip nsenter unshare flock dockerd "$DOCKER" /usr/sbin/sshd ssh ssh-keygen docker-registry busybox curl iptables htpasswd openssl; do
    command -v "$c" >/dev/null || die "missing command: $c (run test/bed/install-deps.sh)"
  done
}
require_podman() {
  local c
  for c in podman conmon runc netavark; do
    command -v "$c" >/dev/null || [[ -x /usr/lib/podman/$c ]] || die "missing command: $c (run test/bed/install-deps.sh)"
  done
}

# node_runtime I : docker or podman, as recorded when node I was made (the builder is Docker)
node_runtime() { local f; f=$(host_dir "$1")/runtime; if [[ -s $f ]]; then cat "$f"; else echo docker; fi; }
podman_hosts() { local i; for i in $(existing_hosts); do [[ $(node_runtime "$i") == podman ]] && echo "$i"; done; true; }

################################################################################ shared pieces

ensure_base() {
  if [[ ! -d $BASE ]]; then
    mkdir -p "$BASE"
    # what existed before us, so `down` removes only its own: /run/netns (made a mount point
    # by `ip netns add`) and /run/mount (libmount's utab, created by the first mount call)
    { mountpoint -q /run/netns 2>/dev/null && echo /run/netns
      [[ -e /run/mount ]] && echo /run/mount; } >"$BASE/.preexisting" || true
  fi
  chmod 700 "$BASE"
  [[ -s $BASE/.id ]] || head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$BASE/.id"   # instance id
  mkdir -p "$BASE/registry/data"
  # the deployer's SSH keypair (what the deploy tool uses as its ssh key)
  [[ -s $BASE/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C testbed-deployer -f "$BASE/id_ed25519"
  # DNS for the nodes: the bridge address, where nothing listens on :53 -> lookups fail fast
  printf '# test bed: no DNS, lookups fail fast\nnameserver %s\n' "$BR_IP" >"$BASE/resolv.conf"
  [[ -e $BASE/hosts ]] || : >"$BASE/hosts"
}

# /etc/hosts for the nodes, plus the client side: ssh_config and known_hosts
write_hosts_files() {
  local nodes=$* i ns ip
  { printf '127.0.0.1\tlocalhost\n%s\t%s-registry\n' "$BR_IP" "$PREFIX"
    for i in $nodes; do printf '%s\t%s\n' "$(host_ip "$i")" "$(ns_name "$i")"; done
  } >"$BASE/hosts.new"
  cat "$BASE/hosts.new" >"$BASE/hosts"; rm -f "$BASE/hosts.new"   # in place: it is bind-mounted
  : >"$BASE/known_hosts"
  { printf '# usage: ssh -F %s %s   (or: ssh -i %s root@%s)\n' "$BASE/ssh_config" "$(ns_name 1)" "$BASE/id_ed25519" "$(host_ip 1)"
    for i in $nodes; do
      ns=$(ns_name "$i"); ip=$(host_ip "$i")
      printf 'Host %s\n  HostName %s\n' "$ns" "$ip"
      printf '%s,%s %s\n' "$ip" "$ns" "$(cut -d' ' -f1,2 "$(host_dir "$i")/ssh/ssh_host_ed25519_key.pub")" >>"$BASE/known_hosts"
    done
    printf 'Host %s-* %s.*\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n' "$PREFIX" "$NET" "$BASE/id_ed25519"
    printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n' "$BASE/known_hosts"
    printf '  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n'
    # OpenSSH 9's default key exchange (sntrup761x25519) costs ~120 ms of CPU per connection
    # here (0.23 s vs 0.13 s per `ssh host true`); libraries such as node's ssh2 or Ruby's
    # net-ssh negotiate curve25519 anyway
    printf '  KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org\n'
  } >"$BASE/ssh_config"
}

# The bridge carries the instance id as its alias: bridge, veth and netns names and the
# subnet are machine-wide, so a second test bed with the same names (another BASE, a chroot)
# must be refused instead of silently sharing, and later deleting, this one's devices.
bridge_tag() { echo "testbed:$(cat "$BASE/.id" 2>/dev/null)"; }
bridge_alias() { cat "/sys/class/net/$BR/ifalias" 2>/dev/null || true; }

ensure_bridge() {
  if ip link show "$BR" >/dev/null 2>&1; then
    [[ $(bridge_alias) == "$(bridge_tag)" ]] ||
      die "$BR exists but belongs to another test bed (alias '$(bridge_alias)'): run its down, or set TESTBED_PREFIX/TESTBED_NET"
  else
    # refuse to shadow a subnet that is already routed somewhere on this machine
    local r; r=$(ip -4 route show to match "$NET.0/24" | grep -v '^default' || true)
    [[ -z $r ]] || die "$NET.0/24 is already routed here: $r"
    # fixed MAC: a bridge without one takes the lowest MAC of its ports, so adding a host
    # would change the gateway MAC under the feet of the others (stale ARP, stalled pulls)
    ip link add "$BR" address "$(printf '02:00:%02x:%02x:%02x:01' ${NET//./ })" type bridge
    ip link set "$BR" alias "$(bridge_tag)"
  fi
  ip addr replace "$BR_IP/24" dev "$BR"
  ip link set "$BR" up
}

# Docker in the root namespace sets the FORWARD policy to DROP, and with br_netfilter loaded
# (net.bridge.bridge-nf-call-iptables=1) frames *bridged* between two ports of our bridge
# traverse the root namespace's FORWARD chain: node->node traffic (.11 -> .12) would be
# silently dropped.  Accept bridge-internal traffic in DOCKER-USER, the chain Docker keeps
# for user rules (in FORWARD when there is no Docker in the root namespace).
ensure_forward_rule() {
  local chain=FORWARD
  iptables -n -L DOCKER-USER >/dev/null 2>&1 && chain="DOCKER-USER"
  iptables -C "$chain" "${FW_RULE[@]}" 2>/dev/null || iptables -I "$chain" 1 "${FW_RULE[@]}"
}

# The registry: Debian's docker-registry (distribution 2.8), plain HTTP on the bridge address,
# with htpasswd auth (distribution accepts only bcrypt entries, hence `htpasswd -B`).
registry_password() { cat "$BASE/registry/password"; }
# registry_status : HTTP status of an anonymous GET /v2/ (401 = up and asking for a login)
registry_status() { curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://$REGISTRY/v2/" 2>/dev/null || echo down; }
registry_up() { [[ $(registry_status) == 401 ]]; }
ensure_registry() {
  local d=$BASE/registry
  if [[ ! -s $d/password ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$d/password")
    rm -f "$d/htpasswd"
  fi
  # -i: the password on stdin, never on a command line
  [[ -s $d/htpasswd ]] || htpasswd -B -i -c "$d/htpasswd" "$REGISTRY_USER" <"$d/password" 2>/dev/null
  pid_of "$d/registry.pid" docker-registry registry >/dev/null && return 0
  cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields: {service: registry}
storage:
  filesystem: {rootdirectory: $d/data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
auth:
  htpasswd: {realm: ${PREFIX}-testbed, path: $d/htpasswd}
http:
  addr: $REGISTRY
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver: {enabled: true, interval: 10s, threshold: 3}
EOF
  setsid docker-registry serve "$d/config.yml" </dev/null >>"$d/registry.log" 2>&1 9<&- &
  echo $! >"$d/registry.pid"
  wait_for 15 "registry on $REGISTRY" registry_up ||
    die "registry did not start (GET /v2/ -> $(registry_status)), see $d/registry.log"
}

# the builder logs in to the registry (its own /root/.docker), so builds push as a real user would
ensure_builder_login() {
  local out  # (quiet unless it fails: docker warns that the login is stored unencrypted)
  out=$(registry_password | ndocker 0 login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" 2>&1) ||
    die "builder: docker login to $REGISTRY failed: $out"
}

# busybox base image on the builder, imported from the local busybox-static binary (nothing
# can be pulled), then pushed so hosts can `docker pull` it as a base/accessory image.
ensure_base_image() {
  local img=$REGISTRY/busybox:testbed r a
  if ! ndocker 0 image inspect "$img" >/dev/null 2>&1; then
    r=$(host_dir 0)/rootfs
    rm -rf "$r"; mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/www"
    cp "$(command -v busybox)" "$r/bin/busybox"
    for a in $("$r/bin/busybox" --list); do [[ $a == busybox ]] || ln -sf busybox "$r/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    chmod 1777 "$r/tmp"
    tar -C "$r" -c . | ndocker 0 import --change 'CMD ["sh"]' - "$img" >/dev/null
    rm -rf "$r"
  fi
  ndocker 0 push -q "$img" >/dev/null
}

# Pebble, Let's Encrypt's test CA (built and cached by build-pebble.sh), with pebble-challtestsrv
# as its DNS resolver: both run in the root namespace on the bridge address, like the registry.
# The app host names of the tests (app.test, a.test, ...) exist only in challtestsrv (`dns-add`),
# which answers nothing for other names: its default answers (127.0.0.1, ::1) are switched off,
# or Pebble's HTTP-01 requests would go to this machine's loopback (it dials the first address,
# AAAA before A). So Pebble's validation requests go only to bed hosts, on port 80 (httpPort),
# where Traefik answers them. Its other challenge servers (HTTP-01, TLS-ALPN-01, DoH) are off.
#
# Pebble's HTTPS certificate is made here for the bridge address and signed with Pebble's
# published "minica" root (test/certs/pebble.minica.pem, whose key ships beside it): a client
# trusts that one file ($BASE/pebble/pebble.minica.pem, MRSK_TESTBED_PEBBLE_CA) and verifies
# the address, with no server-name override and nothing skipped. The root that signs the
# *issued* certificates is another one, generated in memory at each Pebble start: fetch it from
# the management API (GET /roots/0) after `up`, and never keep it across a Pebble restart.
#
# Traefik (v3.6) against this Pebble, for a resolver <r>:
#   --certificatesresolvers.<r>.acme.caServer=https://<bridge ip>:14000/dir   (MRSK_TESTBED_PEBBLE_DIRECTORY)
#   --certificatesresolvers.<r>.acme.httpChallenge.entryPoint=<the :80 entrypoint's name>
#   --certificatesresolvers.<r>.acme.email=... and .acme.storage=<a host volume>/acme.json
#   env LEGO_CA_CERTIFICATES=<pebble.minica.pem as mounted in the container>
# Traefik reads LEGO_CA_CERTIFICATES only when acme.caCertificates / acme.caServerName are unset,
# and the pool it builds replaces the system roots for the ACME client (not for anything else).
# Counting orders: the management API has no count; Pebble logs `Added order "<id>" to the db`
# once per new order, so count those lines in $BASE/pebble/pebble.log (MRSK_TESTBED_PEBBLE_LOG).
pebble_marker()       { echo "root:-config $BASE/pebble/config.json "; }
challtestsrv_marker() { echo "root:-management $BR_IP:$CHALL_MGMT_PORT "; }
# pebble_status : HTTP status of GET /dir, verified with the minica root
pebble_status() {
  curl -sS -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$BASE/pebble/pebble.minica.pem" \
    "https://$BR_IP:$PEBBLE_PORT/dir" 2>/dev/null || true
}
pebble_up() { [[ $(pebble_status) == 200 ]]; }
challtestsrv_up() { curl -sS -o /dev/null --max-time 2 "http://$BR_IP:$CHALL_MGMT_PORT/"; }  # any answer
ensure_pebble() {
  local d=$BASE/pebble bin
  bin=$(bash "$(dirname "$0")/build-pebble.sh") || die "build-pebble.sh failed (its messages are above)"
  mkdir -p "$d"
  [[ -s $d/pebble.minica.pem ]] || cp "$bin/certs/pebble.minica.pem" "$d/pebble.minica.pem"
  if [[ ! -s $d/cert.pem || ! -s $d/key.pem ]]; then
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$PREFIX-pebble" \
      -keyout "$d/key.pem" -out "$d/cert.csr" 2>>"$d/openssl.log" || die "pebble: key/CSR failed, see $d/openssl.log"
    printf '%s\n' "subjectAltName=IP:$BR_IP,DNS:$PREFIX-pebble,DNS:pebble" basicConstraints=critical,CA:FALSE \
      keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth >"$d/cert.ext"
    openssl x509 -req -in "$d/cert.csr" -CA "$bin/certs/pebble.minica.pem" -CAkey "$bin/certs/pebble.minica.key.pem" \
      -set_serial "0x1$(od -An -tx1 -N15 /dev/urandom | tr -d ' \n')" -days 825 -sha256 -extfile "$d/cert.ext" \
      -out "$d/cert.pem" 2>>"$d/openssl.log" || die "pebble: signing its certificate failed, see $d/openssl.log"
    rm -f "$d/cert.csr"
  fi
  cat >"$d/config.json" <<JSON
{
  "pebble": {
    "listenAddress": "$BR_IP:$PEBBLE_PORT",
    "managementListenAddress": "$BR_IP:$PEBBLE_MGMT_PORT",
    "certificate": "$d/cert.pem",
    "privateKey": "$d/key.pem",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "retryAfter": {"authz": 1, "order": 1},
    "keyAlgorithm": "ecdsa"
  }
}
JSON
  if ! pid_of "$d/challtestsrv.pid" pebble-challtes "$(challtestsrv_marker)" >/dev/null; then
    setsid "$bin/pebble-challtestsrv" -management "$BR_IP:$CHALL_MGMT_PORT" -dnsserver "$BR_IP:$CHALL_DNS_PORT" \
      -http01 "" -https01 "" -tlsalpn01 "" -doh "" -defaultIPv4 "" -defaultIPv6 "" \
      </dev/null >>"$d/challtestsrv.log" 2>&1 9<&- &
    echo $! >"$d/challtestsrv.pid"
    wait_for 15 "challtestsrv on $BR_IP:$CHALL_MGMT_PORT" challtestsrv_up ||
      die "pebble-challtestsrv did not start, see $d/challtestsrv.log"
  fi
  if ! pid_of "$d/pebble.pid" pebble "$(pebble_marker)" >/dev/null; then
    # NOSLEEP: validate at once, not after a random 0-15 s; NONCEREJECT=0: no deliberately
    # rejected nonces (5% by default), so a client's retry logic is not what the tests measure
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 setsid "$bin/pebble" -config "$d/config.json" \
      -dnsserver "$BR_IP:$CHALL_DNS_PORT" </dev/null >>"$d/pebble.log" 2>&1 9<&- &
    echo $! >"$d/pebble.pid"
    wait_for 15 "pebble on $BR_IP:$PEBBLE_PORT" pebble_up ||
      die "pebble did not start (GET /dir -> $(pebble_status)), see $d/pebble.log"
  fi
}

# dns-add NAME IP... : challtestsrv answers A queries for NAME with exactly these addresses
# (replacing earlier ones: its /add-a appends). Only bed addresses: Pebble sends its HTTP-01
# requests to them, and traffic never leaves the bed.
chall_post() {
  curl -sS -f --max-time 5 -X POST -d "$2" "http://$BR_IP:$CHALL_MGMT_PORT/$1" >/dev/null ||
    die "challtestsrv: POST /$1 failed (is the bed up? see $BASE/pebble/challtestsrv.log)"
}
cmd_dns_add() {
  local name=${1:-} ip o list=""
  [[ $# -ge 2 && $name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]] || die "usage: $0 dns-add NAME IP..."
  shift
  for ip in "$@"; do
    o=${ip#"$NET".}
    [[ $ip == "$NET".* && $o =~ ^[0-9]{1,3}$ ]] && (( 10#$o >= 1 && 10#$o <= 254 )) ||
      die "dns-add: $ip is not an address of the bed ($NET.1-254)"
    list+="${list:+,}\"$ip\""
  done
  chall_post clear-a "{\"host\":\"$name\"}"
  chall_post add-a "{\"host\":\"$name\",\"addresses\":[$list]}"
}

# cmd_env : shell exports describing the bed (eval "$(testbed.sh env)"): all a client needs
cmd_env() {
  local i hosts=""
  [[ -s $BASE/registry/password ]] || die "no test bed at $BASE; run: $0 up"
  for i in $(existing_hosts); do hosts+="${hosts:+ }$(host_ip "$i")"; done
  q() { printf 'export %s=%q\n' "$1" "$2"; }
  q MRSK_TESTBED_DIR "$BASE"
  q MRSK_TESTBED_PREFIX "$PREFIX"
  q MRSK_TESTBED_HOSTS "$hosts"
  hosts=""; for i in $(podman_hosts); do hosts+="${hosts:+ }$(host_ip "$i")"; done
  q MRSK_TESTBED_PODMAN_HOSTS "$hosts"   # the hosts that run rootful Podman (and no dockerd)
  for i in $(existing_hosts); do q "MRSK_TESTBED_HOST$i" "$(host_ip "$i")"; done
  q MRSK_TESTBED_BUILDER "$(host_ip 0)"
  q MRSK_TESTBED_BUILDER_DOCKER_HOST "unix://$(host_dir 0)/run/docker.sock"
  q MRSK_TESTBED_BUILDER_DOCKER_CONFIG "$(host_dir 0)/root/.docker"
  q MRSK_TESTBED_REGISTRY "$REGISTRY"
  q MRSK_TESTBED_PEBBLE_DIRECTORY "https://$BR_IP:$PEBBLE_PORT/dir"
  q MRSK_TESTBED_PEBBLE_MANAGEMENT "https://$BR_IP:$PEBBLE_MGMT_PORT"
  q MRSK_TESTBED_PEBBLE_CA "$BASE/pebble/pebble.minica.pem"
  q MRSK_TESTBED_PEBBLE_LOG "$BASE/pebble/pebble.log"
  q MRSK_TESTBED_PEBBLE_DNS "$BR_IP:$CHALL_DNS_PORT"
  q MRSK_TESTBED_CHALLTESTSRV "http://$BR_IP:$CHALL_MGMT_PORT"
  q MRSK_TESTBED_REGISTRY_USER "$REGISTRY_USER"
  q MRSK_REGISTRY_PASSWORD "$(registry_password)"
  q MRSK_TESTBED_KEY "$BASE/id_ed25519"
  q MRSK_TESTBED_SSH_CONFIG "$BASE/ssh_config"
  q MRSK_TESTBED_KNOWN_HOSTS "$BASE/known_hosts"
}

################################################################################ nodes

ensure_node_net() {
  local i=$1 ns ip veth
  ns=$(ns_name "$i"); ip=$(host_ip "$i"); veth=$(veth_name "$i")
  [[ -e /run/netns/$ns ]] || ip netns add "$ns"
  ip -n "$ns" link set lo up
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    ip link del "$veth" 2>/dev/null || true             # half pair left by an earlier run
    ip link add "$veth" type veth peer name eth0 netns "$ns"
  fi
  ip link set "$veth" master "$BR" up
  ip -n "$ns" addr replace "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  # deliberately NO default route: the test net is the only network a node can reach
}

# ensure_node_files I RUNTIME : node I's folder; RUNTIME (docker|podman) is recorded the first
# time and wins afterwards, so a repair never turns a node into the other kind
ensure_node_files() {
  local i=$1 hd ns ip rt
  hd=$(host_dir "$i"); ns=$(ns_name "$i"); ip=$(host_ip "$i")
  mkdir -p "$hd"/{run,docker,etc-docker,root/.ssh,ssh,log,cg}
  [[ -s $hd/runtime ]] || echo "${2:-docker}" >"$hd/runtime"
  rt=$(node_runtime "$i")
  [[ $rt == "${2:-docker}" ]] || log "note: $ns was made with $rt and stays so (down to change it)"
  [[ $rt == podman ]] && ensure_podman_files "$i"
  chmod 700 "$hd/root" "$hd/root/.ssh"
  [[ -s $hd/ssh/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C "$ns" -f "$hd/ssh/ssh_host_ed25519_key"
  install -m 600 "$BASE/id_ed25519.pub" "$hd/root/.ssh/authorized_keys"
  [[ -e $hd/etc-docker/daemon.json ]] || echo '{}' >"$hd/etc-docker/daemon.json"  # /etc/docker/daemon.json inside
  # paths are as seen INSIDE the node's mount namespace (/run there is $hd/run here)
  cat >"$hd/ssh/sshd_config" <<EOF
# sshd of test node $ns ($ip): runs in netns $ns, in that node's mount namespace
ListenAddress $ip:22
HostKey $hd/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
# No PAM: no pam_loginuid/pam_systemd surprises in a namespace.  Caveat: without PAM, sshd
# refuses an account whose password field starts with '!' (locked); '*' is fine.
UsePAM no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
# deploy tools open many connections/channels at once; stay well above the defaults (10)
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# Podman's configuration of node I, seen inside as /etc/containers (rewritten on every `up`)
ensure_podman_files() {
  local hd e nofile nproc; hd=$(host_dir "$1"); e=$hd/etc-containers
  mkdir -p "$hd/containers" "$e/networks"
  install -m 644 /etc/containers/policy.json "$e/policy.json"
  # A container's limits may not exceed its conmon's, and nothing here may raise a hard limit
  # (no CAP_SYS_RESOURCE): nofile at our hard limit; nproc at most the kernel's pid_max too,
  # as Podman starts conmon with nproc there (seen: 32768 while our hard limit was 96365)
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [[ $nofile == unlimited ]] && nofile=1048576
  [[ $nproc == unlimited ]] && nproc=$(</proc/sys/kernel/pid_max)
  (( nproc <= $(</proc/sys/kernel/pid_max) )) || nproc=$(</proc/sys/kernel/pid_max)
  cat >"$e/containers.conf" <<EOF
# test bed node $(ns_name "$1"): rootful Podman in a network namespace, no systemd
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"

[network]
network_backend = "netavark"
network_config_dir = "/etc/containers/networks"
EOF
  cat >"$e/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
  cat >"$e/registries.conf" <<EOF
# only fully qualified names: nothing may be looked up on the internet
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY"
insecure = true
EOF
}

# hide_other_runtime I : whiteouts (0:0 character devices, as overlayfs spells a deleted file)
# for the commands of the runtime node I does not have, in $hd/hide/<folder of the command>:
# Podman nodes get no docker/dockerd, Docker nodes no podman.  A non-executable file bound
# over them would not do: `command -v` still names a file it cannot execute.
hide_other_runtime() {
  local hd c p d; hd=$(host_dir "$1")
  rm -rf "$hd/hide"; mkdir -p "$hd/hide"
  if [[ $(node_runtime "$1") == podman ]]; then set -- docker dockerd; else set -- podman; fi
  for c in "$@"; do
    for p in $(type -aP "$c"); do
      d=$(readlink -f "$(dirname "$p")")
      [[ -e $hd/hide$d/$c ]] || { mkdir -p "$hd/hide$d"; mknod "$hd/hide$d/$c" c 0 0; }
    done
  done
}

# The anchor enters the node's netns, unshares mount + UTS namespaces, lays out the per-node
# filesystem view, then sleeps forever to keep those namespaces alive; the daemons join them
# with `nsenter -t <anchor> -n -m -u -r -w` (-r -w: also its root and cwd; without them
# nsenter lands in the mount namespace's real root, which escapes a chroot).
# Propagation "slave": root-side unmounts (ip netns del) still reach the node, nothing
# mounted inside (overlayfs, netns files) leaks out, and it all goes away with the node's
# last process: `down` never has to unmount anything.
# `ip netns exec` is NOT used: it remounts /sys, which hides /sys/fs/cgroup, and runc needs
# it; so /sys is remounted here with the cgroup mounts moved back in.
ANCHOR_SH='
set -e
ns=$1 hd=$2 base=$3 rt=$4
hostname "$ns"
# /sys of this netns, with the cgroup hierarchies kept
mount --rbind /sys/fs/cgroup "$hd/cg"
umount -l /sys
mount -t sysfs sysfs /sys
mount --move "$hd/cg" /sys/fs/cgroup
# a private /tmp (tmpfs, gone with the node), with $BASE mounted back at the same path
exec 8<"$base"
mount -t tmpfs -o mode=1777,size=1g tmpfs /tmp
mkdir -p "$base"
mount --no-canonicalize --rbind /proc/self/fd/8 "$base"   # (canonicalizing would resolve to the new, empty dir)
exec 8<&-
# per-node copies of the well-known server paths
mount --bind "$hd/run" /run
# a private /dev/shm, empty at each boot: Podman keeps its container locks there
# (/dev/shm/libpod_lock), which nodes must not share with each other or with the machine
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m tmpfs /dev/shm
[ -d /var/lib/docker ] && mount --bind "$hd/docker" /var/lib/docker
[ -d /etc/docker ] && mount --bind "$hd/etc-docker" /etc/docker
if [ "$rt" = podman ]; then
  # a fresh install of Podman has no /var/lib/containers until Podman first runs
  mkdir -p /var/lib/containers /etc/containers
  mount --bind "$hd/containers" /var/lib/containers
  mount --bind "$hd/etc-containers" /etc/containers
fi
# the other runtime is not installed here: a read-only overlay over each folder that holds one
# of its commands, with a whiteout for it (see hide_other_runtime)
for d in $(cd "$hd/hide" && find . -type c -printf "%h\n" | sed "s/^\.//" | sort -u); do
  mount -t overlay overlay -o "ro,lowerdir=$hd/hide$d:$d" "$d"
done
mount --bind "$hd/root" /root
mount --bind "$base/hosts" /etc/hosts
mount --bind "$base/resolv.conf" /etc/resolv.conf
echo $$ > "$hd/anchor.pid"
exec sleep infinity
'

# node_pids I : every process of node I: in its netns, in its mount namespace (its /run is
# the node's run folder), or in its containers' cgroups; ours by construction
node_pids() {
  local ns hd want; ns=$(ns_name "$1"); hd=$(host_dir "$1")
  { [[ -e /run/netns/$ns ]] && ip netns pids "$ns" 2>/dev/null
    if [[ -d $hd/run ]]; then
      want=$(stat -c %d:%i "$hd/run")
      stat -L -c '%d:%i %n' /proc/[0-9]*/root/run 2>/dev/null | awk -v w="$want" '$1 == w { split($2, p, "/"); print p[3] }'
    fi
    cgroup_dirs "$ns" | while read -r d; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done
    podman_cgroup_dirs "$1" | while read -r d; do cat "$d/cgroup.procs" 2>/dev/null; done
  } | grep -vx "$$" | sort -nu | with_descendants || true
}

# with_descendants : the pids on stdin plus all their descendants.  A Podman container's
# processes live in their own namespaces and in cgroups shared by every node (there is no
# per-node cgroup parent in containers.conf), but they are children of the node's conmon.
with_descendants() {
  local want; want=$(cat)
  ps -e -o pid= -o ppid= | awk -v w="$want" '
    BEGIN { n = split(w, a); for (i = 1; i <= n; i++) { want[a[i]] = 1; print a[i] } }
    { parent[$1] = $2 }
    END { do { n = 0; for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; print p; n++ } } while (n) }' |
    sort -nu
}

# podman_cgroup_dirs I : the cgroups (cgroupfs manager: <hierarchy>/libpod_parent/libpod-<id>,
# conmon in .../libpod-conmon-<id>) of the containers in node I's storage
podman_cgroup_dirs() {
  local hd id; hd=$(host_dir "$1")
  [[ $(node_runtime "$1") == podman && -d $hd/containers/storage/overlay-containers ]] || return 0
  for id in $(ls "$hd/containers/storage/overlay-containers" 2>/dev/null); do
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d \( -name "libpod-$id" -o -name "libpod-conmon-$id" \) 2>/dev/null
  done
}

# conmon_gone I : no conmon of node I runs any more
conmon_gone() {
  local p
  for p in $(pgrep -x conmon || true); do in_node "$p" "$1" && return 1; done
  return 0
}

# in_node_podman I TIMEOUT_S ARGS... : run `podman ARGS` inside node I (its namespaces, its config)
in_node_podman() {
  local a; a=$(pid_of "$(host_dir "$1")/anchor.pid" sleep "$1") || return 1
  timeout "$2" nsenter -t "$a" -n -m -u -r -w -- podman "${@:3}"
}

# stop_node I [MODE] : stop node I's containers, dockerd, sshd, anchor and any leftover.
#   MODE=reboot (default): like a real shutdown: dockerd gets SIGTERM and stops each container
#     within its stop timeout (10 s by default; a PID 1 without a SIGTERM handler, e.g. a bare
#     busybox httpd, uses all of it), so restart policies apply when the node boots again.
#   MODE=fast (down): `docker kill` all containers first (this marks them manually stopped).
stop_node() {
  local i=$1 mode=${2:-reboot} hd ns pid ids k left
  hd=$(host_dir "$i"); ns=$(ns_name "$i")
  # Podman: no daemon; stop (reboot: within each container's stop timeout, as a shutdown would)
  # or kill (down) its running containers, from inside the node
  if [[ $(node_runtime "$i") == podman ]] && pid_of "$hd/anchor.pid" sleep "$i" >/dev/null; then
    if [[ $mode == fast ]]; then in_node_podman "$i" 20 kill -a >/dev/null 2>&1 || true
    else in_node_podman "$i" 40 stop -a >/dev/null 2>&1 || true; fi
    # each conmon runs `podman container cleanup` (network, mounts) once its container is gone
    wait_for 10 "$ns: conmon cleanups" conmon_gone "$i" || true
  fi
  if pid=$(pid_of "$hd/run/docker.pid" dockerd "$i"); then
    if [[ $mode == fast ]]; then
      ids=$(timeout 10 env DOCKER_HOST="unix://$hd/run/docker.sock" "$DOCKER" ps -q 2>/dev/null || true)
      [[ -z $ids ]] || timeout 20 env DOCKER_HOST="unix://$hd/run/docker.sock" "$DOCKER" kill $ids >/dev/null 2>&1 || true
    fi
    stop_pid "$pid" 30
  fi
  if pid=$(pid_of "$hd/run/sshd.pid" sshd "$i"); then stop_pid "$pid" 5; fi
  if pid=$(pid_of "$hd/anchor.pid" sleep "$i"); then kill -KILL "$pid" 2>/dev/null || true; fi
  # leftovers (ssh sessions, orphaned shims, container processes): see node_pids
  for k in 1 2 3 4 5 6 7 8 9 10; do
    left=$(node_pids "$i" | tr '\n' ' '); left=${left% }
    [[ -z $left ]] && break
    (( k == 1 )) && log "$ns: killing leftover processes: $(for p in $left; do printf "%s(%s) " "$p" "$(cat /proc/$p/comm 2>/dev/null)"; done)"
    kill -KILL $left 2>/dev/null || true
    sleep 0.2
  done
  # the (now empty) cgroups runc created under --cgroup-parent=/<ns> (Docker) or for this node's
  # Podman containers (a killed conmon leaves them)
  cgroup_dirs "$ns" | while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
  podman_cgroup_dirs "$i" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
  rm -f "$hd/anchor.pid"
}

# start_node I : "boot" node I unless it is fully up already (a partly-up node is rebooted).
# A dockerd that runs but does not answer (one shutting down after a SIGTERM) is not up.
start_node() {
  local i=$1 hd ns anchor rt
  hd=$(host_dir "$i"); ns=$(ns_name "$i"); rt=$(node_runtime "$i")
  if pid_of "$hd/anchor.pid" sleep "$i" >/dev/null && pid_of "$hd/run/sshd.pid" sshd "$i" >/dev/null &&
     { [[ $rt == podman ]] || { pid_of "$hd/run/docker.pid" dockerd "$i" >/dev/null && timeout 10 env DOCKER_HOST="unix://$hd/run/docker.sock" "$DOCKER" version >/dev/null 2>&1; }; }; then
    return 0
  fi
  log "$ns: booting"
  stop_node "$i"
  rm -rf "$hd/run"; mkdir -p "$hd/run/sshd"; chmod 755 "$hd/run/sshd"  # fresh /run, as after a reboot
  hide_other_runtime "$i"
  setsid nsenter --net="/run/netns/$ns" -- unshare --mount --uts --propagation slave -- \
    /bin/sh -c "$ANCHOR_SH" anchor "$ns" "$hd" "$BASE" "$rt" </dev/null >>"$hd/log/anchor.log" 2>&1 9<&- &
  wait_for 10 "$ns anchor" pid_of "$hd/anchor.pid" sleep "$i" || die "$ns: anchor failed, see $hd/log/anchor.log"
  anchor=$(<"$hd/anchor.pid")
  [[ $rt == podman ]] || start_dockerd "$i" "$anchor"
  nsenter -t "$anchor" -n -m -u -r -w -- /usr/sbin/sshd -t -f "$hd/ssh/sshd_config" || die "$ns: bad sshd_config"
  nsenter -t "$anchor" -n -m -u -r -w -- /usr/sbin/sshd -f "$hd/ssh/sshd_config" -E "$hd/log/sshd.log" \
    </dev/null >/dev/null 2>&1 9<&-
}

start_dockerd() {
  local i=$1 anchor=$2 hd ns; hd=$(host_dir "$i"); ns=$(ns_name "$i")
  # dockerd: all paths per node.  --cgroup-parent keeps this node's containers out of the
  # /docker cgroup that every other dockerd on the machine shares (and allows per-node
  # accounting); cgroupfs is pinned because on a cgroup v2 + systemd box dockerd would pick
  # the systemd driver, which only takes "*.slice" parents.
  setsid nsenter -t "$anchor" -n -m -u -r -w -- dockerd \
    --data-root "$hd/docker" --exec-root "$hd/run/docker" --pidfile "$hd/run/docker.pid" \
    -H "unix://$hd/run/docker.sock" --insecure-registry "$REGISTRY" \
    --cgroup-parent "/$ns" --exec-opt native.cgroupdriver=cgroupfs \
    --config-file "$hd/etc-docker/daemon.json" \
    </dev/null >>"$hd/log/dockerd.log" 2>&1 9<&- &
}

wait_node() {
  local i=$1 hd ns
  hd=$(host_dir "$i"); ns=$(ns_name "$i")
  if [[ $(node_runtime "$i") == podman ]]; then
    wait_for 15 "$ns sshd" nssh "$i" true || die "$ns: sshd not ready, see $hd/log/sshd.log"
    # Podman over ssh, as a client will use it (also creates its storage on the first boot)
    local out; out=$(nssh "$i" 'podman info --format "{{.Host.NetworkBackend}} {{.Store.GraphRoot}}" 2>&1') ||
      die "$ns: podman does not work there: $out"
    [[ $out == "netavark /var/lib/containers/storage" ]] || die "$ns: unexpected podman set-up (or messages): $out"
    return 0
  fi
  # 120 s: a dockerd booted again beside a busy machine (the faults suite's "then back") restores
  # its containers first; the log's tail goes into the error, since the bed may be gone when it is read
  wait_for 120 "$ns dockerd" ndocker "$i" version || die "$ns: dockerd not ready, see $hd/log/dockerd.log; its last lines:
$(tail -n 15 "$hd/log/dockerd.log" 2>/dev/null | cut -c1-300)"
  wait_for 15 "$ns sshd" nssh "$i" true || die "$ns: sshd not ready, see $hd/log/sshd.log"
}

remove_node_net() {  # remove_node_net I MINE
  local i=$1 ns; ns=$(ns_name "$i")
  if [[ -e /run/netns/$ns ]]; then ip netns del "$ns"; fi  # also destroys eth0 and its veth peer
  [[ $2 == no ]] || ip link del "$(veth_name "$i")" 2>/dev/null || true
}

################################################################################ commands

start_nodes() { local i; for ((i = 0; i <= $1; i++)); do start_node "$i"; done; }  # dockerds boot in parallel
wait_nodes()  { local i; for ((i = 0; i <= $1; i++)); do wait_node "$i"; done; }
# make_nodes TOTAL DOCKER : nodes 0..TOTAL, the hosts after the first DOCKER ones with Podman
make_nodes()  {
  local i rt
  for ((i = 0; i <= $1; i++)); do
    rt=docker; (( i > $2 )) && rt=podman
    ensure_node_net "$i"; ensure_node_files "$i" "$rt"
  done
}

cmd_up() {
  local n=2 m=0 t0 i
  if [[ ${1:-} =~ ^[0-9]+$ ]]; then n=$1; shift; fi
  if [[ ${1:-} == --podman ]]; then
    m=1; shift
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then m=$1; shift; fi
  fi
  (( $# == 0 && n + m >= 1 && n + m <= 99 )) ||
    die "usage: $0 up [N] [--podman [M]]   (N Docker hosts, default 2, then M Podman hosts, default 1; N + M = 1..99)"
  (( m == 0 )) || require_podman
  t0=$(now)
  step base ensure_base
  step bridge ensure_bridge
  step forward-rule ensure_forward_rule
  step registry ensure_registry
  step pebble ensure_pebble
  step node-net-and-files make_nodes $((n + m)) "$n"
  step hosts-files write_hosts_files $(existing_nodes)
  step start-daemons start_nodes $((n + m))
  step wait-daemons wait_nodes $((n + m))
  step builder-login ensure_builder_login
  step base-image ensure_base_image
  for i in $(existing_hosts); do (( i > n + m )) && log "note: $(ns_name "$i") exists beyond N+M=$((n + m)), left as is"; done
  log "time: up $(elapsed "$t0")s"
  log "up $n$( (( m )) && echo " --podman $m"): ready ($(( n + m )) hosts; Podman: $(podman_hosts | sed 's/^/h/' | paste -sd, -))." \
    "Try: ssh -F $BASE/ssh_config $(ns_name 1) $([[ $(node_runtime 1) == podman ]] && echo podman || echo docker) ps"
}

cmd_down() {
  local t0 i pid chain nodes mine=yes
  t0=$(now)
  nodes=$(existing_nodes)
  # bridge, veths and the iptables rule are machine-wide: touch them only if they are ours
  if ip link show "$BR" >/dev/null 2>&1 && ! [[ -s $BASE/.id && $(bridge_alias) == "$(bridge_tag)" ]]; then
    mine=no; log "note: $BR is not this test bed's (alias '$(bridge_alias)'): bridge, veths, iptables left alone"
  fi
  # everything stops in parallel
  for i in $nodes; do stop_node "$i" fast & done
  if pid=$(pid_of "$BASE/registry/registry.pid" docker-registry registry); then stop_pid "$pid" 10 & fi
  if pid=$(pid_of "$BASE/pebble/pebble.pid" pebble "$(pebble_marker)"); then stop_pid "$pid" 10 & fi
  if pid=$(pid_of "$BASE/pebble/challtestsrv.pid" pebble-challtes "$(challtestsrv_marker)"); then stop_pid "$pid" 10 & fi
  wait
  for i in $nodes; do remove_node_net "$i" "$mine"; done
  if [[ $mine == yes ]]; then
    for chain in DOCKER-USER FORWARD; do
      while iptables -D "$chain" "${FW_RULE[@]}" 2>/dev/null; do :; done
    done
    ip link del "$BR" 2>/dev/null || true
  fi
  # `ip netns add` made /run/netns a mount point; undo that if we did it and it is empty now
  if [[ -d /run/netns && -z $(ls -A /run/netns) ]] && ! grep -qx /run/netns "$BASE/.preexisting" 2>/dev/null; then
    umount /run/netns 2>/dev/null || true; rmdir /run/netns 2>/dev/null || true
  fi
  if [[ -d /run/mount && -e $BASE/.preexisting ]] && ! grep -qx /run/mount "$BASE/.preexisting" &&
     [[ ! -s /run/mount/utab ]]; then
    rm -f /run/mount/utab /run/mount/utab.lock; rmdir /run/mount 2>/dev/null || true
  fi
  # never rm -rf under a live mount or a process still using it (in any mount namespace)
  local mnts; mnts=$(findmnt -rn -o TARGET | grep "^$BASE\(/\|$\)" | tr '\n' ' ' || true)
  [[ -z $mnts ]] || die "mounts still present under $BASE: $mnts"
  local users=""; for i in $nodes; do users+=$(node_pids "$i" | tr '\n' ' '); done
  [[ -z $users ]] || die "processes still running in the test bed: $users"
  rm -rf "$BASE"
  log "time: down $(elapsed "$t0")s"
}

cmd_status() {
  local i ns hd a d s c ok rss pss pid pids
  printf 'bridge   %s %s\n' "$BR" "$(ip -br -4 addr show "$BR" 2>/dev/null | awk '{print $2, $3}' || true)"
  printf 'registry %s pid %s, anonymous GET /v2/ -> %s (401 expected)\n' "$REGISTRY" \
    "$(pid_of "$BASE/registry/registry.pid" docker-registry registry || echo -)" "$(registry_status)"
  printf 'pebble   https://%s:%s/dir pid %s, GET /dir -> %s (200 expected); challtestsrv DNS %s:%s pid %s\n' \
    "$BR_IP" "$PEBBLE_PORT" "$(pid_of "$BASE/pebble/pebble.pid" pebble "$(pebble_marker)" || echo -)" "$(pebble_status)" \
    "$BR_IP" "$CHALL_DNS_PORT" "$(pid_of "$BASE/pebble/challtestsrv.pid" pebble-challtes "$(challtestsrv_marker)" || echo -)"
  printf '%-13s %-12s %-7s %-7s %-7s %-4s %-4s %8s %8s %8s\n' node ip anchor dockerd sshd ssh ctrs RSS_MiB PSS_MiB ctr_KiB
  for i in $(existing_nodes); do
    ns=$(ns_name "$i"); hd=$(host_dir "$i")
    a=$(pid_of "$hd/anchor.pid" sleep "$i" || echo -)
    d=$(pid_of "$hd/run/docker.pid" dockerd "$i" || echo -)
    s=$(pid_of "$hd/run/sshd.pid" sshd "$i" || echo -)
    ok=$(nssh "$i" true 2>/dev/null && echo ok || echo FAIL)
    if [[ $(node_runtime "$i") == podman ]]; then
      d=podman  # no daemon: count its running containers from inside the node
      c=$( { in_node_podman "$i" 20 ps -q 2>/dev/null || true; } | wc -l)
    else
      c=$( { ndocker "$i" ps -q 2>/dev/null || true; } | wc -l)
    fi
    # memory of the node's own daemons: dockerd + its containerd + the sshd listener
    pids=""
    [[ $d == - || $d == podman ]] || pids="$d $(pgrep -P "$d" -x containerd || true)"
    [[ $s == - ]] || pids="$pids $s"
    rss=0; pss=0
    for pid in $pids; do
      rss=$(( rss + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0) ))
      pss=$(( pss + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0) ))
    done
    # and what its containers are charged (cgroup v1 memory; shims and docker-proxy excluded)
    local ctr=- f
    if [[ -d /sys/fs/cgroup/memory/$ns ]]; then
      ctr=0; for f in /sys/fs/cgroup/memory/$ns/*/memory.usage_in_bytes; do [[ -r $f ]] && ctr=$(( ctr + $(<"$f") )); done
      ctr=$(( ctr / 1024 ))
    fi
    printf '%-13s %-12s %-7s %-7s %-7s %-4s %-4s %8s %8s %8s\n' "$ns" "$(host_ip "$i")" "$a" "$d" "$s" "$ok" "$c" \
      "$((rss / 1024))" "$((pss / 1024))" "$ctr"
  done
  echo "(RSS/PSS: the node's dockerd + containerd + sshd; ctr_KiB: its containers' memory cgroups;"
  echo " dockerd 'podman': a Podman node, no daemon, its ctrs counted by podman ps)"
}

# enter I [CMD...] : a shell (or CMD) inside node I (0 = builder), as root "on that server"
cmd_enter() {
  local i=${1:-} a
  [[ $i =~ ^[0-9]+$ ]] || die "usage: $0 enter I [CMD...]   (I = 0 for the builder, 1..N for hosts)"
  shift
  a=$(pid_of "$(host_dir "$i")/anchor.pid" sleep "$i") || die "$(ns_name "$i") is not up"
  (( $# )) || set -- /bin/bash
  exec nsenter -t "$a" -n -m -u -r -w -- "$@"
}

main() {
  local cmd=${1:-}; shift || true
  case $cmd in
    up|down|status) ;;
    enter) require; cmd_enter "$@" ;;
    env) cmd_env; return ;;
    dns-add) cmd_dns_add "$@"; return ;;   # an HTTP call to the bed: no root, no lock
    *) echo "usage: $0 up [N] [--podman [M]] | down | status | env | enter I [CMD...] | dns-add NAME IP..." >&2; exit 2 ;;
  esac
  require
  # TESTBED_TRACE=1: timestamped xtrace on stderr (bash ignores PS4 from the environment as root)
  if [[ -n ${TESTBED_TRACE:-} ]]; then PS4='+ ${EPOCHREALTIME} ${FUNCNAME[0]:-main}: '; set -x; fi
  # one testbed.sh at a time: a lock on the script file itself, nothing to clean up.
  # Every daemon is started with 9<&-, or it would inherit fd 9 and hold the lock forever.
  exec 9<"$0"; flock 9
  "cmd_$cmd" "$@"
}
main "$@"
