// What a Podman host needs next to Podman itself: its Docker-compatible API service, which
// Traefik's Docker provider reads, and someone to run the containers' health checks. Podman
// leaves both to systemd (podman.socket, health-check timers). On a host with systemd, mrsk
// enables podman.socket; on a host without it, mrsk starts its keeper: a small sh loop that keeps
// `podman system service` running and runs the health checks every few seconds.
import { shq } from '../shell/quote.ts';
import { RUNTIMES } from './runtime.ts';

/** Folder (relative to the SSH user's home) of the keeper script, its pid files and the service's log. */
export const PODMAN_STATE_DIR = '.mrsk/runtime';

/** First line of the keeper script: the probe reads it to know which keeper runs. Bump on any change. */
export const KEEPER_VERSION_LINE = '# mrsk podman keeper v3';

/** Seconds between two rounds of health checks by the keeper (between deploys; mrsk runs them itself while it waits). */
export const KEEPER_HEALTH_INTERVAL_SECONDS = 5;

/** Name of the Traefik container the keeper restarts after it had to start the API service again. */
const TRAEFIK = 'traefik';

/**
 * The keeper. It runs as root (rootful Podman), detached from the SSH session. When the API service
 * is not running it starts it, and a running Traefik is restarted so that it mounts the new socket
 * (a bind mount keeps the old, dead one). Then it runs the health check of every running container
 * that has one: Traefik's Docker provider routes only to healthy containers, and without systemd
 * nothing else would ever run them.
 */
export function keeperScript(): string {
  const socket = RUNTIMES.podman.apiSocket;
  return [
    KEEPER_VERSION_LINE,
    '# Started by mrsk on a Podman host without systemd; see docs/configuration.md (runtime).',
    'dir=$(dirname "$0")',
    `sock=${shq(socket)}`,
    // a process that ended but is not reaped yet (a zombie: its parent, init, reaps late) counts as dead
    ALIVE_SH,
    'echo $$ > "$dir/keeper.pid"',
    'while :; do',
    '  pid=$(cat "$dir/service.pid" 2>/dev/null)',
    '  if ! alive "$pid"; then',
    '    mkdir -p "$(dirname "$sock")"',
    '    rm -f "$sock"',
    '    podman system service --time=0 "unix://$sock" >>"$dir/service.log" 2>&1 &',
    '    echo $! > "$dir/service.pid"',
    '    i=0; while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done',
    `    if [ "$(podman inspect --format '{{.State.Running}}' ${TRAEFIK} 2>/dev/null)" = true ]; then podman restart ${TRAEFIK} >/dev/null 2>&1; fi`,
    '  fi',
    '  for id in $(podman ps -q --filter status=running --filter health=healthy --filter health=unhealthy --filter health=starting 2>/dev/null); do',
    // Podman 4 sends a check's event before it records the result: Traefik, which reads the status
    // when an event comes, may read the old one and not look again until the next event. So a
    // result (exit code) other than the last one seen for that container is checked once more, at
    // once: that second check's event comes after the first's result is recorded.
    '    podman healthcheck run "$id" >/dev/null 2>&1; now=$?',
    '    eval "was=\\${seen_$id-}"',
    '    if [ "$now" != "$was" ]; then podman healthcheck run "$id" >/dev/null 2>&1; now=$?; fi',
    '    eval "seen_$id=\\$now"',
    '  done',
    `  sleep ${KEEPER_HEALTH_INTERVAL_SECONDS}`,
    'done',
    '',
  ].join('\n');
}

/**
 * Starts the keeper (after the caller uploaded keeperScript() to PODMAN_STATE_DIR/keeper.sh): a
 * keeper of another version is stopped first (the API service it started keeps running and the new
 * keeper adopts it through its pid file). Waits up to 10 s for the socket.
 */
export function startKeeperScript(): string {
  const dir = `"$HOME"/${shq(PODMAN_STATE_DIR)}`;
  const socket = shq(RUNTIMES.podman.apiSocket);
  return [
    ALIVE_SH,
    `old=$(cat ${dir}/keeper.pid 2>/dev/null)`,
    'if alive "$old"; then kill "$old"; fi',
    `setsid sh ${dir}/keeper.sh </dev/null >/dev/null 2>&1 &`,
    // the new keeper has written its pid (a probe right after reads the new one, not the old)
    'i=0',
    `while { [ ! -s ${dir}/keeper.pid ] || [ "$(cat ${dir}/keeper.pid)" = "$old" ]; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done`,
    'i=0',
    `while [ ! -S ${socket} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done`,
    `[ -S ${socket} ] || { echo "Podman's API socket ${RUNTIMES.podman.apiSocket} did not appear within 10s: see ~/${PODMAN_STATE_DIR}/service.log" >&2; exit 1; }`,
  ].join('\n');
}

/** `alive PID`: the process exists and is not a zombie (an ended process its parent has not reaped yet). */
const ALIVE_SH =
  'alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(sed -n \'s/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p\' /proc/"$1"/status 2>/dev/null)" != Z ]; }';

/** On a host with systemd: Podman's own socket unit serves the API (and its timers run health checks). */
export function enableSocketUnitScript(): string {
  return `systemctl enable --now podman.socket && i=0 && while [ ! -S ${shq(RUNTIMES.podman.apiSocket)} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done && [ -S ${shq(RUNTIMES.podman.apiSocket)} ]`;
}

/** Stops the keeper and the API service it started (mrsk remove of the last app on the host). */
export function stopKeeperScript(): string {
  const dir = `"$HOME"/${shq(PODMAN_STATE_DIR)}`;
  return [
    ALIVE_SH,
    `for f in ${dir}/keeper.pid ${dir}/service.pid; do`,
    '  p=$(cat "$f" 2>/dev/null); if alive "$p"; then kill "$p"; fi; rm -f "$f"',
    'done',
  ].join('\n');
}
