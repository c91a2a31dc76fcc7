// The fault suite: a three-host bed of its own, the example app deployed, and one fault per
// scenario made with real means inside a host's namespace (iptables DROP, `docker kill`, kill -9,
// dockerd stopped, the cord folder removed, mrsk SIGKILLed, SSH blocked) while a load generator
// sends requests to every host. Each scenario asserts: zero failed requests on the hosts that were
// not broken; the state the faulted run left (what it said, the lock, the versions serving, the
// release); and that one plain re-run converges (`mrsk plan --detailed-exitcode` exits 0).
// Every wait has a deadline. Scenarios run in order and each starts from a converged fleet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { bringUp, load, repoRoot, run, runOk, testbed, type Bed, type LoadResult, type ProcessResult } from '../e2e/harness.ts';
import { TRAEFIK_API_PORT } from '../../src/runtime/traefik.ts';

const faultConfig = join(repoRoot, 'test', 'faults', 'deploy.yml');
const SERVICE = 'faults';
let bed: Bed;
/** The version the fleet runs now; each scenario deploys the other one. */
let current = 'v1';
const other = () => (current === 'v1' ? 'v2' : 'v1');
const url = (i: number) => `http://${bed.hosts[i - 1]}/`;
const hostName = (i: number) => bed.hosts[i - 1]!;
const timings: string[] = [];
/** A network cut inside a host's namespace, and its end (the DROP rules are ours, removed by their spec). */
const CUT = 'iptables -I INPUT -j DROP && iptables -I OUTPUT -j DROP && iptables -I FORWARD -j DROP';
const UNCUT = 'iptables -D INPUT -j DROP; iptables -D OUTPUT -j DROP; iptables -D FORWARD -j DROP; true';

function mrsk(args: readonly string[], timeoutMs = 240_000): Promise<ProcessResult> {
  return bed.mrsk([...args, '-c', faultConfig], { timeoutMs });
}

/** A shell command inside host I's namespaces, as root on that server (not over SSH). */
async function onHost(i: number, command: string, timeoutMs = 60_000): Promise<ProcessResult> {
  return run('bash', [join(repoRoot, 'test', 'bed', 'testbed.sh'), 'enter', String(i), 'sh', '-c', command], { timeoutMs });
}
async function onHostOk(i: number, command: string): Promise<string> {
  const result = await onHost(i, command);
  assert.equal(result.code, 0, `on host ${i}: ${command}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The first word of host I's answer (the version), or `HTTP <status> <error>`. */
async function served(i: number): Promise<string> {
  const answer = await bed.curl(url(i));
  return answer.status === 200 ? (answer.body.trim().split(' ')[0] ?? '') : `HTTP ${answer.status} ${answer.error ?? ''}`.trim();
}

/** Polls fn until it returns true, or fails the test after timeoutMs with what was last seen. */
async function eventually(what: string, timeoutMs: number, fn: () => Promise<boolean | string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: boolean | string = false;
  while (Date.now() < deadline) {
    last = await fn();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what}: not within ${timeoutMs / 1000}s (last seen: ${String(last)})`);
}

/** Which versions run on host I (running containers of the app, by version label). */
async function runningVersions(i: number): Promise<string[]> {
  const out = await onHostOk(i, `docker ps --filter label=mrsk.service=${SERVICE} --format '{{.Label "mrsk.version"}}'`);
  return out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

async function lockHeld(i: number): Promise<boolean> {
  return (await onHostOk(i, `test -d /root/.mrsk/${SERVICE}/lock && echo held || echo free`)).trim() === 'held';
}

async function recordedVersion(i: number): Promise<string> {
  const out = await onHost(i, `cat /root/.mrsk/${SERVICE}/releases/current.json`);
  return out.code === 0 ? (JSON.parse(out.stdout) as { version: string }).version : `none (${out.stderr.trim()})`;
}

/** Runs fn under load on all three hosts (20 requests/s each); the traffic is returned per host. */
async function underLoad<T>(fn: () => Promise<T>): Promise<{ result: T; traffic: LoadResult }> {
  const stop = new AbortController();
  const traffic = load({ urls: [1, 2, 3].map(url), rps: 60, durationMs: 300_000, signal: stop.signal, timeoutMs: 3000 });
  await new Promise((r) => setTimeout(r, 300));
  try {
    const result = await fn();
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    return { result, traffic: await traffic };
  } finally {
    stop.abort();
    await traffic;
  }
}

/** Zero failed requests to the hosts that were not broken; logs the numbers per host. */
function assertNoFailuresOn(name: string, traffic: LoadResult, hosts: readonly number[], seconds: number): void {
  const perHost = [1, 2, 3].map((i) => `h${i} ${traffic.failures.filter((f) => f.url === url(i)).length}`);
  const line = `${name}: ${traffic.sent} requests, ${traffic.failed} failed (${perHost.join(', ')}), ${seconds.toFixed(1)}s; served ${JSON.stringify(traffic.bodies)}`;
  timings.push(line);
  console.log(`fault: ${line}`);
  assert.ok(traffic.sent >= 20, `the load generator sent only ${traffic.sent} requests`);
  const bad = traffic.failures.filter((f) => hosts.some((i) => f.url === url(i)));
  assert.equal(bad.length, 0, `failed requests on hosts that were not broken: ${JSON.stringify(bad.slice(0, 10))}`);
}

/** The last lines of a faulted run, for the log: what it said when it ended. */
function logEnd(name: string, output: string): void {
  const lines = output.trimEnd().split('\n');
  console.log(`fault: ${name}: the run ended with:\n    ${lines.slice(-6).join('\n    ')}`);
}

interface Streamed {
  readonly code: number | null;
  readonly output: string;
  readonly ms: number;
}

/**
 * Runs mrsk as a child whose output is watched line by line: `onOutput` sees all output so far
 * and may start a fault (once). The child is SIGKILLed after timeoutMs.
 */
function streamMrsk(args: readonly string[], onOutput: (output: string, child: ReturnType<typeof spawn>) => void, timeoutMs = 240_000): Promise<Streamed> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'mrsk.js'), ...args, '-c', faultConfig], {
    env: {
      ...process.env,
      ...bed.env,
      APP_SECRET: bed.appSecret,
      NO_COLOR: '1',
      MRSK_APP_CONTEXT: join(repoRoot, 'fixtures', 'app'),
      DOCKER_HOST: bed.env.MRSK_TESTBED_BUILDER_DOCKER_HOST ?? '',
      DOCKER_CONFIG: bed.env.MRSK_TESTBED_BUILDER_DOCKER_CONFIG ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput(output, child);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    }),
  );
}

/** The progress line a host prints when a step of the new version finished. */
const stepDone = (i: number, step: RegExp) => new RegExp(`${hostName(i).replaceAll('.', '\\.')}\\s+${step.source} ok`);

/** False once a scenario ended converged; a scenario that failed half-way leaves it true. */
let dirty = false;

async function assertConverges(what: string): Promise<void> {
  const plan = await mrsk(['plan', '--detailed-exitcode']);
  assert.equal(plan.code, 0, `${what}: plan --detailed-exitcode exited ${plan.code}\n${plan.stdout}\n${plan.stderr}`);
  assert.deepEqual(await Promise.all([1, 2, 3].map(served)), [current, current, current]);
  for (const i of [1, 2, 3]) assert.equal(await lockHeld(i), false, `${what}: the lock on host ${i} is released`);
  dirty = false;
}

/** Each scenario starts from a converged fleet: after one that failed half-way, undo its fault and converge first. */
async function fromConverged(): Promise<void> {
  if (dirty) {
    for (const i of [1, 2, 3]) await onHost(i, `${UNCUT}; iptables -D INPUT -p tcp --dport 22 -j DROP; true`);
    await testbed(['up', '3'], { timeoutMs: 180_000 });
    await mrsk(['lock', 'release', '--force']);
    await mrsk(['deploy', '--skip-push', '--version', current]);
  }
  dirty = true;
}

/** A plain re-run: `mrsk deploy --skip-push --version V` (no --force), which must converge the fleet. */
async function plainRerun(what: string, version = current): Promise<ProcessResult> {
  const rerun = await mrsk(['deploy', '--skip-push', '--version', version]);
  assert.equal(rerun.code, 0, `${what}: the plain re-run exited ${rerun.code}\n${rerun.stdout}\n${rerun.stderr}`);
  assert.match(rerun.stdout + rerun.stderr, new RegExp(`Deployed ${SERVICE} ${version} to 3 host\\(s\\)`));
  current = version;
  await assertConverges(what);
  return rerun;
}

describe('faults on a three-host bed, under load', { timeout: 1_200_000 }, () => {
  before(async () => {
    bed = await bringUp(3);
    assert.equal(bed.hosts.length, 3, `the fault bed has 3 hosts: ${bed.hosts.join(' ')}`);
    await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v2'], { timeoutMs: 180_000 });
    // a clean slate even when an earlier run was interrupted: no cut network, no app
    for (const i of [1, 2, 3]) await onHost(i, `${UNCUT}; iptables -D INPUT -p tcp --dport 22 -j DROP; true`);
    await mrsk(['remove', '-y']);
    const setup = await mrsk(['setup', '--skip-push', '--version', 'v1']);
    assert.equal(setup.code, 0, `setup v1\n${setup.stdout}\n${setup.stderr}`);
    current = 'v1';
    await assertConverges('setup');
  });
  after(async () => {
    if (bed) for (const i of [1, 2, 3]) await onHost(i, `${UNCUT}; iptables -D INPUT -p tcp --dport 22 -j DROP; true`).catch(() => undefined);
    console.log(`fault suite timings:\n  ${timings.join('\n  ')}`);
    await bed?.tearDown();
  });

  test('Traefik that crashes (its process killed) restarts by itself; `docker kill` counts as a manual stop', async () => {
    await fromConverged();
    const started = Date.now();
    const policy = (await onHostOk(1, 'docker inspect -f "{{.HostConfig.RestartPolicy.Name}}" traefik')).trim();
    assert.equal(policy, 'unless-stopped');
    const { traffic } = await underLoad(async () => {
      // a crash: the process dies, Docker did not stop it
      await onHostOk(1, 'kill -9 "$(docker inspect -f "{{.State.Pid}}" traefik)"');
      await eventually('Traefik restarted by Docker', 30_000, async () => (await onHostOk(1, 'docker inspect -f "{{.State.Running}} {{.RestartCount}}" traefik')).trim().replace(/^true [1-9]\d*$/, 'yes') === 'yes');
      await eventually('host 1 answers again', 30_000, async () => (await served(1)) === current || (await served(1)));
    });
    assertNoFailuresOn('traefik crash (kill -9)', traffic, [2, 3], (Date.now() - started) / 1000);
    await assertConverges('after a Traefik crash');
  });

  test('network cut (iptables DROP) on host 2 in the middle of the cutover: the others deploy with zero failures, host 2 is named, and one plain re-run converges', async () => {
    await fromConverged();
    const started = Date.now();
    const target = other();
    let cutAt = 0;
    let restore: Promise<unknown> | undefined;
    const { result, traffic } = await underLoad(() =>
      streamMrsk(['deploy', '--skip-push', '--version', target], (output) => {
        if (cutAt || !stepDone(2, new RegExp(`wait until ${SERVICE}-web-${target} is healthy`)).test(output)) return;
        cutAt = Date.now();
        // all of it: SSH (INPUT/OUTPUT) and the requests Docker forwards to Traefik (FORWARD);
        // 15 s: well past 3 missed keepalives of 2 s (the fault config), shorter than a run
        restore = onHost(2, `${CUT}; sleep 15; ${UNCUT}`, 60_000);
      }),
    );
    await restore;
    assert.ok(cutAt > 0, `the cut never happened:\n${result.output}`);
    logEnd('network cut mid-cutover', result.output);
    assert.notEqual(result.code, 0, `a run that lost a host must fail:\n${result.output}`);
    assert.match(result.output, new RegExp(`${hostName(2).replaceAll('.', '\\.')}`));
    assert.doesNotMatch(result.output, /Deployed faults/, 'no success line for a run that lost a host');
    assertNoFailuresOn('network cut mid-cutover (h2)', traffic, [1, 3], (Date.now() - started) / 1000);
    assert.deepEqual([await served(1), await served(3)], [target, target]);
    console.log(`fault: after the cut: h2 runs ${JSON.stringify(await runningVersions(2))}, lock ${(await lockHeld(2)) ? 'held' : 'free'}, release ${await recordedVersion(2)}`);
    // a host left with both versions running is named as such by the failed run
    if ((await runningVersions(2)).length > 1) assert.match(result.output, new RegExp(`${hostName(2).replaceAll('.', '\\.')} may now serve two versions`));
    // a lock the run could not release is named with the command that clears it; else it is free
    if (await lockHeld(2)) assert.match(result.output, /lock[^\n]*(mrsk lock release|run again|re-run)/i, 'a lock left behind is reported');
    // the host that was cut is not recorded at the new version (its cutover was not seen through)
    assert.notEqual(await recordedVersion(2), target);
    const plan = await mrsk(['plan', '--detailed-exitcode', '--version', target]);
    assert.equal(plan.code, 2, `the plan shows host 2 still to converge:\n${plan.stdout}\n${plan.stderr}`);
    await plainRerun('after a network cut', target);
  });

  test('`docker kill traefik` on host 1 during the drain: the host fails saying Traefik is not running and what to run, the old container is not stopped, no success line; a re-run restores it', async () => {
    await fromConverged();
    const started = Date.now();
    const target = other();
    const previous = current;
    let killed = false;
    const { result, traffic } = await underLoad(() =>
      streamMrsk(['deploy', '--skip-push', '--version', target], (output) => {
        if (killed || !stepDone(1, new RegExp(`wait until Traefik routes to ${SERVICE}-web-${target}`)).test(output)) return;
        killed = true;
        void onHost(1, 'docker kill traefik');
      }),
    );
    assert.ok(killed, `Traefik was never killed:\n${result.output}`);
    logEnd('docker kill traefik during drain', result.output);
    assert.notEqual(result.code, 0, `a host with no Traefik is not deployed:\n${result.output}`);
    assert.match(result.output, new RegExp(`${hostName(1).replaceAll('.', '\\.')}: [^\\n]*Traefik is not running`));
    assert.match(result.output, /mrsk traefik boot|running the command again/);
    assert.doesNotMatch(result.output, /Deployed faults/);
    assertNoFailuresOn('docker kill traefik during drain (h1)', traffic, [2, 3], (Date.now() - started) / 1000);
    // the old container was not stopped on a host whose Traefik could not be seen dropping it
    assert.ok((await runningVersions(1)).includes(previous), `the old ${previous} still runs on host 1: ${JSON.stringify(await runningVersions(1))}`);
    assert.notEqual(await recordedVersion(1), target, 'host 1 is not recorded at the new version');
    assert.equal(await lockHeld(1), false, 'the failed run released its lock');
    await plainRerun('after docker kill traefik', target);
  });

  test('the cord folder removed on host 2: it answers 404; the next deploy makes it serve again without claiming what it did not see', async () => {
    await fromConverged();
    const started = Date.now();
    await onHostOk(2, `rm -rf /root/.mrsk/${SERVICE}/cords`);
    await eventually('host 2 stops being routed (unhealthy)', 30_000, async () => (await served(2)).startsWith('HTTP 404') || (await served(2)));
    const { result, traffic } = await underLoad(() => mrsk(['deploy', '--skip-push', '--version', current]));
    assert.equal(result.code, 0, `the deploy repairs host 2:\n${result.stdout}\n${result.stderr}`);
    assert.doesNotMatch(result.stdout + result.stderr, /keeps serving/, 'nothing claims a container keeps serving');
    assertNoFailuresOn('lost cords (h2) + deploy', traffic, [1, 3], (Date.now() - started) / 1000);
    const h2 = traffic.failures.filter((f) => f.url === url(2));
    console.log(`fault: host 2 failed ${h2.length} requests (404 before the repair), last at ${h2.at(-1)?.at ?? '-'} ms`);
    await assertConverges('after lost cords');
  });

  test('dockerd stopped on host 3 in the middle of the deploy, then back: the run fails naming host 3; plan shows what host 3 runs; one plain re-run converges', async () => {
    await fromConverged();
    const started = Date.now();
    const target = other();
    let stoppedAt = 0;
    let stopping: Promise<unknown> | undefined;
    const pidFile = join(bed.env.MRSK_TESTBED_DIR ?? '', 'h3', 'run', 'docker.pid');
    const { result, traffic } = await underLoad(() =>
      streamMrsk(['deploy', '--skip-push', '--version', target], (output) => {
        if (stoppedAt || !stepDone(3, new RegExp(`wait until ${SERVICE}-web-${target} is healthy`)).test(output)) return;
        stoppedAt = Date.now();
        stopping = run('bash', ['-c', `kill -TERM "$(cat ${pidFile})"`]);
      }),
    );
    await stopping;
    assert.ok(stoppedAt > 0, `dockerd was never stopped:\n${result.output}`);
    logEnd('dockerd stopped mid-deploy', result.output);
    assert.notEqual(result.code, 0, `a run that lost dockerd on a host must fail:\n${result.output}`);
    assert.match(result.output, new RegExp(`${hostName(3).replaceAll('.', '\\.')}`));
    assert.doesNotMatch(result.output, /Deployed faults/);
    assertNoFailuresOn('dockerd stopped mid-deploy (h3)', traffic, [1, 2], (Date.now() - started) / 1000);
    // the stopped dockerd finishes its shutdown first (it stops each container within its stop
    // timeout): booting the node while it still runs would find it "up" and then see it exit
    await eventually('the stopped dockerd of host 3 to exit', 90_000, async () => (await run('bash', ['-c', `kill -0 "$(cat ${pidFile})" 2>/dev/null`])).code !== 0 || 'still running');
    // the host boots again (dockerd, sshd; containers come back by their restart policy)
    const up = await testbed(['up', '3'], { timeoutMs: 180_000 });
    assert.equal(up.code, 0, up.stderr);
    await eventually('host 3 serves again after dockerd came back', 60_000, async () => ['v1', 'v2'].includes(await served(3)) || (await served(3))).catch(async (error: unknown) => {
      // what the host runs and what Traefik sees, for the next look at a failure here
      const look = await onHost(3, `docker ps -a --format '{{.Names}} {{.Status}}'; curl -sS http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/routers 2>&1 | head -c 2000`);
      console.log(`fault: host 3 after dockerd came back:\n${look.stdout}${look.stderr}`);
      throw error;
    });
    // the run says how it left host 3: half-way (two versions may serve), or its Traefik gone with dockerd
    assert.match(result.output, new RegExp(`${hostName(3).replaceAll('.', '\\.')} (may now serve two versions|[^\\n]*Traefik is not running)`), 'the run says how host 3 was left');
    const versions = await runningVersions(3);
    console.log(`fault: after dockerd came back, host 3 runs ${JSON.stringify(versions)}`);
    const plan = await mrsk(['plan', '--version', target]);
    assert.equal(plan.code, 0, plan.stderr);
    if (versions.length > 1) assert.match(plan.stdout, /another running container of role web/, `two versions serving are shown:\n${plan.stdout}`);
    await plainRerun('after dockerd restart', target);
  });

  test('mrsk SIGKILLed at four moments of a deploy: zero failed requests each time; the plain re-run takes over the dead run\'s lock (no --force) and converges', async () => {
    await fromConverged();
    const moments: { name: string; at: (target: string) => RegExp; locked: boolean }[] = [
      // with nothing to build, the lock is taken with the login: "Logged in" is said under it
      { name: 'after the registry login, under the lock', at: () => /Logged in to /, locked: true },
      { name: 'after host 2 started the new container', at: (t) => stepDone(2, new RegExp(`\\S*start ${SERVICE}-web-${t}[^\\n]*?`)), locked: true },
      { name: 'during the drain on host 1', at: (t) => stepDone(1, new RegExp(`wait until Traefik routes to ${SERVICE}-web-${t}`)), locked: true },
      { name: 'after host 1 recorded the release', at: (t) => stepDone(1, new RegExp(`record release ${t}`)), locked: false },
    ];
    for (const moment of moments) {
      const started = Date.now();
      const target = other();
      let killedAt = 0;
      const { result, traffic } = await underLoad(() =>
        streamMrsk(['deploy', '--skip-push', '--version', target], (output, child) => {
          if (killedAt || !moment.at(target).test(output)) return;
          killedAt = Date.now();
          child.kill('SIGKILL');
        }),
      );
      assert.ok(killedAt > 0, `mrsk was never killed ${moment.name}:\n${result.output}`);
      assert.notEqual(result.code, 0);
      assertNoFailuresOn(`SIGKILL of mrsk ${moment.name}`, traffic, [1, 2, 3], (Date.now() - started) / 1000);
      const held = (await Promise.all([1, 2, 3].map(lockHeld))).some(Boolean);
      if (moment.locked) assert.ok(held, `a run killed ${moment.name} leaves its lock`);
      const rerun = await plainRerun(`after SIGKILL ${moment.name}`, target);
      if (held) assert.match(rerun.stderr, /took over the deploy lock .*its process \d+ on this machine is gone/);
    }
  });

  test('host 3 unreachable (SSH dropped): deploy refuses (exit 69) naming it and --skip-unreachable; with the flag the others deploy, drift and plan show host 3 behind; back, one plain re-run converges', async () => {
    await fromConverged();
    const started = Date.now();
    const target = other();
    const previous = current;
    await onHostOk(3, 'iptables -I INPUT -p tcp --dport 22 -j DROP');
    try {
      const refused = await mrsk(['deploy', '--skip-push', '--version', target]);
      assert.equal(refused.code, 69, `${refused.stdout}\n${refused.stderr}`);
      assert.match(refused.stderr, new RegExp(`cannot be used, so nothing was deployed to any host:\\n  ${hostName(3).replaceAll('.', '\\.')}: unreachable`));
      assert.match(refused.stderr, /--skip-unreachable/);
      assert.deepEqual(await Promise.all([1, 2, 3].map(served)), [previous, previous, previous], 'nothing changed');
      const plan = await mrsk(['plan']);
      assert.equal(plan.code, 1);
      assert.match(plan.stderr, /cannot be used: deploy, redeploy, setup and apply stop before changing any host; with --skip-unreachable/);

      const { result, traffic } = await underLoad(() => mrsk(['deploy', '--skip-push', '--version', target, '--skip-unreachable']));
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout + result.stderr, new RegExp(`Deployed faults ${target} to 2 host\\(s\\) in [\\d.]+s; skipped ${hostName(3).replaceAll('.', '\\.')} \\(--skip-unreachable\\): recorded as behind`));
      assertNoFailuresOn('unreachable h3 + --skip-unreachable', traffic, [1, 2, 3], (Date.now() - started) / 1000);
      assert.deepEqual(await Promise.all([1, 2, 3].map(served)), [target, target, previous]);
      const down = await mrsk(['drift']);
      assert.equal(down.code, 1, down.stdout);
    } finally {
      await onHost(3, 'iptables -D INPUT -p tcp --dport 22 -j DROP');
    }
    const drift = await mrsk(['drift', '--json']);
    assert.equal(drift.code, 2, drift.stdout + drift.stderr);
    const report = JSON.parse(drift.stdout) as { hosts: { host: string; findings?: { kind: string; cause: string }[] }[] };
    const h3 = report.hosts.find((h) => h.host === hostName(3));
    assert.ok(h3?.findings?.some((f) => f.kind === 'behind' && f.cause.includes(`deploy of ${target}`)), JSON.stringify(h3));
    const plan = await mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stderr, /is behind: it was skipped \(--skip-unreachable\)/);
    // host 3 gets the new version (started again from its retained container, or run anew); the others have nothing to do
    assert.match(plan.stdout, new RegExp(`${hostName(3).replaceAll('.', '\\.')}  \\(batch 1\\)\\n[^\\n]*container/${SERVICE}-web-${target}`));
    assert.doesNotMatch(plan.stdout, new RegExp(`${hostName(1).replaceAll('.', '\\.')}  \\(batch`));
    await plainRerun('after the skipped host came back', target);
    const clean = await mrsk(['drift']);
    assert.equal(clean.code, 0, clean.stdout);
  });
});
