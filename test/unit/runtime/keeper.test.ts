// The Podman keeper (src/runtime/podman-service.ts) run by a real sh, as on a Podman host without
// systemd: what the Podman e2e cannot show is the keeper's own path when the API service dies, and
// its adoption of a running service after the keeper itself was restarted. `podman` is a stand-in
// on PATH that logs every call with its parent's pid and plays `system service` by listening on
// the socket path it is given. The keeper uses Podman's socket path /run/podman/podman.sock, so
// every script runs inside a mount namespace with its own tmpfs on /run (entered with nsenter),
// and the test reads that /run through /proc/<pid>/root. Requires root (unshare, nsenter).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEEPER_HEALTH_INTERVAL_SECONDS, KEEPER_VERSION_LINE, PODMAN_STATE_DIR, keeperScript, startKeeperScript, stopKeeperScript } from '../../../src/runtime/podman-service.ts';
import { RUNTIMES } from '../../../src/runtime/runtime.ts';

const SOCKET = RUNTIMES.podman.apiSocket;
const SERVICE_CALL = `podman system service --time=0 unix://${SOCKET}`;
const PS_CALL = 'podman ps -q --filter status=running --filter health=healthy --filter health=unhealthy --filter health=starting';
/** Long enough for a few keeper rounds on a busy machine. */
const DEADLINE_MS = 6 * KEEPER_HEALTH_INTERVAL_SECONDS * 1000;

const root = mkdtempSync(join(tmpdir(), 'mrsk-keeper-'));
const home = join(root, 'home');
const bin = join(root, 'bin');
const state = join(root, 'state');
const log = join(root, 'podman-calls');
const runtimeDir = join(home, PODMAN_STATE_DIR);

/**
 * The stand-in: one line per call (`<parent pid> podman <args>`); `system service` listens on the
 * socket (node's server, so no tool beyond this test's own runtime is needed); inspect answers
 * Traefik's running state from a file (no file: no such container), ps the ids listed in a file,
 * a health check fails while a file unhealthy-<id> is there.
 */
const STAND_IN = `#!/bin/sh
{ printf '%s podman' "$PPID"; for word in "$@"; do printf ' %s' "$word"; done; printf '\\n'; } >> '${log}'
case "$1" in
  system) [ "$2" = service ] || exit 125; exec '${process.execPath}' -e 'require("node:net").createServer().listen(process.argv[1])' "\${4#unix://}" ;;
  inspect) cat '${state}/traefik-running' 2>/dev/null || { echo "Error: no such container traefik" >&2; exit 125; } ;;
  restart) echo "$2" ;;
  ps) cat '${state}/ps' 2>/dev/null ;;
  healthcheck) [ -f '${state}/unhealthy-'"$3" ] && { echo unhealthy; exit 1; }; exit 0 ;;
  *) echo "stand-in: unexpected podman $*" >&2; exit 125 ;;
esac
`;

/** The process that holds the mount namespace (`cat`, ended by closing its stdin). */
let holder: ChildProcessWithoutNullStreams | undefined;
/** Every pid the keeper scripts started, ended at the end if still there. */
const seen = new Set<number>();

/** Runs a script with sh inside the namespace, with the test's HOME and the stand-in first on PATH. */
function inNamespace(script: string): { code: number; stdout: string; stderr: string } {
  const result = spawnSync('nsenter', ['-t', String(holder!.pid), '-m', '/bin/sh', '-c', script], {
    env: { HOME: home, PATH: `${bin}:/usr/bin:/bin` },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The namespace's view of a path under /run. */
const nsPath = (path: string) => `/proc/${holder!.pid}/root${path}`;
const socketThere = () => {
  try {
    return statSync(nsPath(SOCKET)).isSocket();
  } catch {
    return false;
  }
};

/** The calls so far, each `{ ppid, line }`. */
function calls(): { ppid: number; line: string }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter(Boolean).map((text) => {
    const space = text.indexOf(' ');
    return { ppid: Number(text.slice(0, space)), line: text.slice(space + 1) };
  });
}
const count = (line: string) => calls().filter((call) => call.line === line).length;
const twice = (id: string) => [`podman healthcheck run ${id}`, `podman healthcheck run ${id}`];

/** The keeper's whole rounds so far (the last one may still be going): ps and the checks after it. */
function rounds(): string[][] {
  const result: string[][] = [];
  for (const { line } of calls()) {
    if (line === PS_CALL) result.push([line]);
    else if (line.startsWith('podman healthcheck') && result.length > 0) result.at(-1)!.push(line);
  }
  return result;
}

function pidFile(name: string): number | undefined {
  const path = join(runtimeDir, name);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').trim();
  // `echo $$ > file` empties the file before it writes: read between the two, it says nothing yet
  if (text === '') return undefined;
  const pid = Number(text);
  assert.ok(Number.isInteger(pid) && pid > 1, `${name} holds a pid: ${text}`);
  seen.add(pid);
  return pid;
}

/** Whether a process runs (a zombie has ended: this machine's pid 1 reaps orphans lazily). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `condition` holds; fails with `what` (and the calls so far) at the deadline. */
async function until(what: string, condition: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`${what} within ${deadlineMs} ms; podman calls:\n${calls().map((c) => `${c.ppid} ${c.line}`).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the keeper test needs root (a mount namespace with its own /run)');
  for (const dir of [bin, state, runtimeDir]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(bin, 'podman'), STAND_IN);
  chmodSync(join(bin, 'podman'), 0o755);
  writeFileSync(join(state, 'ps'), 'c1\nc2\n');
  // the caller uploads the keeper before starting it (src/apply: podman-service steps)
  writeFileSync(join(runtimeDir, 'keeper.sh'), keeperScript());
  holder = spawn('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', 'mount -t tmpfs mrsk-keeper-test /run && echo ready && exec cat'], { stdio: 'pipe' });
  let said = '';
  holder.stdout.on('data', (chunk: Buffer) => (said += String(chunk)));
  let stderr = '';
  holder.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  await until(`the mount namespace is ready (${stderr})`, () => said.includes('ready') || holder!.exitCode !== null, 10_000);
  assert.equal(holder.exitCode, null, `unshare failed: ${stderr}`);
  assert.ok(!existsSync(nsPath('/run/podman')), 'the namespace has its own, empty /run');
});

after(() => {
  for (const pid of seen) {
    try {
      if (running(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  holder?.stdin.end();
  rmSync(root, { recursive: true, force: true });
});

describe('the Podman keeper, run by a real sh', () => {
  let service = 0;
  let keeper = 0;

  test('its first line is the version line the probe reads; sh -n accepts the three scripts', () => {
    assert.equal(keeperScript().split('\n')[0], KEEPER_VERSION_LINE);
    for (const script of [keeperScript(), startKeeperScript(), stopKeeperScript()]) {
      const check = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
    }
  });

  test('start: the keeper starts the API service once and the start script returns once its socket is there', async () => {
    const start = inNamespace(startKeeperScript());
    assert.equal(start.code, 0, start.stderr);
    assert.ok(socketThere(), 'the socket is there when the start script returns');
    await until('both pid files', () => pidFile('keeper.pid') !== undefined && pidFile('service.pid') !== undefined, 10_000);
    keeper = pidFile('keeper.pid')!;
    service = pidFile('service.pid')!;
    assert.ok(running(keeper) && running(service));
    assert.notEqual(keeper, service);
    assert.match(readFileSync(`/proc/${service}/cmdline`, 'utf8'), /node/, 'service.pid is the listening service itself');
    // a round of health checks follows the start: only then is the start known to be complete
    await until('a first round of health checks', () => count('podman healthcheck run c2') >= 1);
    assert.equal(count(SERVICE_CALL), 1);
    assert.deepEqual(calls().filter((call) => call.line === SERVICE_CALL).map((call) => call.ppid), [keeper], 'the keeper started it');
    // no Traefik on the host: nothing restarted
    assert.equal(calls().filter((call) => call.line.startsWith('podman restart')).length, 0);
    assert.equal(readFileSync(join(runtimeDir, 'service.log'), 'utf8'), '', "the service's output goes to service.log");
  });

  test('each round: the running containers with a health check are listed, and each one is checked', async () => {
    const from = count(PS_CALL);
    await until('two more whole rounds', () => rounds().length >= from + 3);
    // ps, then every id it printed, in order, round after round. The first round checks each twice:
    // a first result is a change (see the next test).
    const all = rounds();
    assert.deepEqual(all[0], [PS_CALL, ...twice('c1'), ...twice('c2')], 'first round');
    for (const [i, round] of all.slice(1, -1).entries()) assert.deepEqual(round, [PS_CALL, 'podman healthcheck run c1', 'podman healthcheck run c2'], `round ${i + 2}`);
    assert.ok(calls().filter((call) => call.line.startsWith('podman healthcheck')).every((call) => call.ppid === keeper), 'the keeper runs them');
    assert.equal(count(SERVICE_CALL), 1, 'a running service is left alone');
    assert.equal(pidFile('service.pid'), service);
  });

  test("a result other than the last one is checked again at once (Podman 4 sends a check's event before it records the result)", async () => {
    // from the round in progress on: its check of c1 may come after the file
    const from = Math.max(0, rounds().length - 1);
    writeFileSync(join(state, 'unhealthy-c1'), '');
    await until('c1 found unhealthy, then a round after', () => rounds().length >= from + 3 && rounds().slice(from).some((round) => round.join() === [PS_CALL, ...twice('c1'), 'podman healthcheck run c2'].join()));
    // the rounds before the change found c1 healthy, the ones after unhealthy again: once each
    const all = rounds().slice(from, -1);
    const changed = all.findIndex((round) => round.join() === [PS_CALL, ...twice('c1'), 'podman healthcheck run c2'].join());
    const once = [PS_CALL, 'podman healthcheck run c1', 'podman healthcheck run c2'];
    for (const [i, round] of all.entries()) if (i !== changed) assert.deepEqual(round, once, `round ${i} of ${all.length}, the change in ${changed}`);
    rmSync(join(state, 'unhealthy-c1'));
    const back = Math.max(0, rounds().length - 1);
    await until('c1 healthy again: checked twice', () => rounds().slice(back).some((round) => round.join() === [PS_CALL, ...twice('c1'), 'podman healthcheck run c2'].join()));
  });

  test('the service died: the keeper starts it again, then restarts the running Traefik', async () => {
    writeFileSync(join(state, 'traefik-running'), 'true\n');
    process.kill(service, 'SIGKILL');
    await until('a second service start and a Traefik restart', () => count(SERVICE_CALL) === 2 && count('podman restart traefik') === 1);
    const lines = calls().map((call) => call.line);
    const second = lines.lastIndexOf(SERVICE_CALL);
    assert.deepEqual(lines.slice(second + 1, second + 3), ['podman inspect --format {{.State.Running}} traefik', 'podman restart traefik'], 'Traefik is restarted after the new service started');
    const restarted = pidFile('service.pid')!;
    assert.notEqual(restarted, service);
    assert.ok(running(restarted));
    await until('the new service listens', socketThere, 10_000);
    assert.equal(pidFile('keeper.pid'), keeper, 'the same keeper');
    service = restarted;
  });

  test('a restarted keeper adopts the running service through service.pid', async () => {
    writeFileSync(join(state, 'traefik-running'), 'false\n');
    const start = inNamespace(startKeeperScript());
    assert.equal(start.code, 0, start.stderr);
    // the socket is there already, so the start script returns before the new keeper wrote its pid
    await until('the new keeper wrote keeper.pid', () => (pidFile('keeper.pid') ?? keeper) !== keeper, 10_000);
    const next = pidFile('keeper.pid')!;
    await until('the old keeper ended', () => !running(keeper), 10_000);
    await until('a round of health checks by the new keeper', () => calls().some((call) => call.ppid === next && call.line === 'podman healthcheck run c2'));
    assert.equal(count(SERVICE_CALL), 2, 'no service start by the new keeper');
    assert.equal(pidFile('service.pid'), service);
    assert.ok(running(service) && running(next));
    assert.equal(count('podman restart traefik'), 1, 'Traefik is not restarted when the service was adopted');
    keeper = next;
  });

  test('stop: both the keeper and the service end, and the pid files go', async () => {
    const stop = inNamespace(stopKeeperScript());
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(!existsSync(join(runtimeDir, 'keeper.pid')) && !existsSync(join(runtimeDir, 'service.pid')), 'no pid files');
    await until('the keeper and the service ended', () => !running(keeper) && !running(service), 10_000);
    // nothing starts the service again
    const services = count(SERVICE_CALL);
    const stopped = inNamespace(stopKeeperScript());
    assert.equal(stopped.code, 0, `a second stop finds nothing to stop: ${stopped.stderr}`);
    assert.equal(count(SERVICE_CALL), services);
  });
});
