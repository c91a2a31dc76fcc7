// The one pipeline (src/commands/converge.ts) and the commands that change hosts, driven through
// their real command code with the hosts behind a ScriptedRunner (test/helpers/session.ts): the
// probe answers captured output (fixtures/probe) or a state rendered into the probe's sections,
// the lock and audit scripts are matched against their builders' exact text, docker is a small
// double. No sshd, no bed: each test takes milliseconds.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProbeOutput } from '../../../src/probe/parse.ts';
import type { LockInfo, ObservedContainer, ReachableHost } from '../../../src/probe/types.ts';
import type { Config } from '../../../src/config/types.ts';
import { HostError, HostKeyError, LockHeldError, StalePlanError } from '../../../src/errors.ts';
import { setLockWarningHandler } from '../../../src/apply/lock.ts';
import { hostPaths } from '../../../src/desired/paths.ts';
import { shq } from '../../../src/shell/quote.ts';
import { fail } from '../../helpers/scripted-runner.ts';
import { DockerDouble, loadProjectConfig, runCommand, ScriptedHosts } from '../../helpers/session.ts';
import { deployedSnapshot } from '../helpers/snapshot.ts';

const H1 = 'h1.test';
const H2 = 'h2.test';
const config: Config = await loadProjectConfig();
const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/probe/${name}`, import.meta.url), 'utf8');

/** Both hosts after a deploy of v1 (real spec hashes, Traefik, a release record). */
function deployed(version = 'v1'): Record<string, ReachableHost> {
  const snapshot = deployedSnapshot(config, version);
  return { [H1]: snapshot.hosts[H1] as ReachableHost, [H2]: snapshot.hosts[H2] as ReachableHost };
}

/** A host with one container changed. */
function withContainer(host: ReachableHost, name: string, change: Partial<ObservedContainer>): ReachableHost {
  assert.ok(host.containers.some((c) => c.name === name), `${name} on ${host.host}`);
  return { ...host, containers: host.containers.map((c) => (c.name === name ? { ...c, ...change } : c)) };
}

const used: ScriptedHosts[] = [];
afterEach(() => {
  for (const hosts of used.splice(0)) hosts.runner.assertNoUnexpected();
});

/** Hosts in these states (each probe answers the same), with docker on them. */
function hostsIn(state: Record<string, ReachableHost>): { hosts: ScriptedHosts; docker: () => DockerDouble } {
  const hosts = new ScriptedHosts(config);
  used.push(hosts);
  for (const [name, host] of Object.entries(state)) hosts.probe(name, host);
  // docker's rules go last: a test's own rules (added before docker() is called) win
  let double: DockerDouble | undefined;
  return { hosts, docker: () => (double ??= new DockerDouble(hosts.runner, Object.values(state), config.service)) };
}

/** Index of the first (or last) trace line matching. */
const first = (trace: readonly string[], pattern: RegExp) => trace.findIndex((line) => pattern.test(line));
const last = (trace: readonly string[], pattern: RegExp) => trace.findLastIndex((line) => pattern.test(line));
const dockerLines = (trace: readonly string[]) => trace.filter((line) => /: (docker |sh -c )/.test(line));

function holder(command = 'deploy v9'): LockInfo {
  const now = Date.now();
  return { id: 'other-run', holder: 'alice@laptop', command, acquiredAt: new Date(now - 60_000).toISOString(), leaseExpiresAt: new Date(now + 600_000).toISOString() };
}

describe('the pipeline', () => {
  test('order: lock, the one probe under it, plan, steps, audit, release last', async () => {
    const { hosts, docker } = hostsIn(deployed());
    docker();
    const run = await runCommand(['app', 'stop'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    const trace = hosts.trace();
    assert.deepEqual(trace.slice(0, 4), [`${H1}: lock acquire`, `${H2}: lock acquire`, `${H1}: probe`, `${H2}: probe`]);
    assert.equal(trace.filter((line) => line.endsWith(': probe')).length, 2, 'each host is read once');
    const steps = dockerLines(trace);
    assert.ok(steps.length > 0, 'steps ran');
    assert.ok(first(trace, /: docker /) > 3, 'no step before the probe under the lock');
    assert.ok(run.stdout.indexOf('Plan: ') < run.stdout.indexOf('drain app-web-v1'), 'the plan is shown before the steps run');
    const audits = [first(trace, /: audit /), last(trace, /: audit /)];
    assert.ok(audits[0]! > last(trace, /: (docker |sh -c )/), 'the audit after the last step');
    assert.deepEqual(hosts.audits, [
      { host: H1, message: 'app stop: applied 5 steps, version v1' },
      { host: H2, message: 'app stop: applied 5 steps, version v1' },
    ]);
    assert.deepEqual(trace.slice(-2), [`${H1}: lock release`, `${H2}: lock release`]);
  });

  test('a host the probe under the lock cannot use stops the command before any step runs (exit 69), the lock released', async () => {
    const state = deployed();
    const hosts = new ScriptedHosts(config);
    used.push(hosts);
    hosts.probe(H1, state[H1]!).probe(H2, fixture('docker-down.txt'));
    const run = await runCommand(['app', 'stop'], hosts.runner);
    assert.equal(run.code, 69, String(run.error));
    assert.match(String(run.error), /h2\.test/);
    assert.match(String(run.error), /Docker daemon is not running/);
    assert.deepEqual(hosts.trace(), [`${H1}: lock acquire`, `${H2}: lock acquire`, `${H1}: probe`, `${H2}: probe`, `${H1}: lock release`, `${H2}: lock release`], 'nothing but the lock and the probe ran');
    assert.deepEqual(hosts.audits, []);
  });

  test('--skip-unreachable: a host the probe under the lock cannot use is left out and recorded as behind; the others change', async () => {
    const state = deployed();
    const hosts = new ScriptedHosts(config);
    used.push(hosts);
    hosts.probe(H1, state[H1]!).probe(H2, fixture('docker-down.txt'));
    const run = await runCommand(['apply', '--skip-unreachable'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    assert.deepEqual(hosts.trace(), [`${H1}: lock acquire`, `${H2}: lock acquire`, `${H1}: probe`, `${H2}: probe`, `${H1}: lock release`, `${H2}: lock release`], 'each host is read once');
    assert.match(run.stderr + run.stdout, /h2\.test.*skipped \(--skip-unreachable\)/);
    assert.match(run.stdout, /No changes/);
  });

  for (const kind of ['unreachable', 'auth-failed', 'host-key-changed', 'timeout'] as const) {
    test(`a host whose connection fails (${kind}) while the lock is taken is named by a lock-free probe, as before (exit ${kind === 'host-key-changed' ? 77 : 69})`, async () => {
      const state = deployed();
      const hosts = new ScriptedHosts(config);
      used.push(hosts);
      const refused = () => (kind === 'host-key-changed' ? new HostKeyError(H2, 'REMOTE HOST IDENTIFICATION HAS CHANGED') : new HostError(H2, `ssh: ${kind}`, { kind }));
      hosts.probe(H1, state[H1]!).lockHeld((host) => {
        if (host === H2) throw refused();
        return undefined;
      });
      hosts.runner.on({ host: H2 }, () => refused());
      const run = await runCommand(['app', 'stop'], hosts.runner);
      assert.equal(run.code, kind === 'host-key-changed' ? 77 : 69, String(run.error));
      assert.match(String(run.error), /h2\.test/);
      const trace = hosts.trace();
      assert.deepEqual(trace.slice(0, 3), [`${H1}: lock acquire`, `${H2}: lock acquire`, `${H1}: lock release`], 'the lock taken on h1 is given back');
      // a lost answer (timeout) may have made the lock there: it is released too
      assert.deepEqual(trace.slice(3), [...(kind === 'timeout' ? [`${H2}: lock release`] : []), `${H1}: probe`, `${H2}: probe`], 'then the lock-free probe, and nothing else');
      assert.deepEqual(hosts.audits, []);
    });
  }

  test('a held lock stops the command before the hosts are read under it (exit 75), naming the holder', async () => {
    const { hosts } = hostsIn(deployed());
    hosts.lockHeld(() => holder());
    const run = await runCommand(['app', 'stop'], hosts.runner);
    assert.ok(run.error instanceof LockHeldError, String(run.error));
    assert.equal(run.code, 75);
    assert.match(String(run.error), /alice@laptop/);
    assert.match(String(run.error), /--lock-wait/);
    assert.deepEqual(hosts.trace(), [`${H1}: lock acquire`], 'the first host decides: nothing else is asked or read');
    assert.deepEqual(hosts.audits, []);
  });

  test('--lock-wait: a held lock is asked again until it is released, then the command runs', async () => {
    const { hosts, docker } = hostsIn(deployed());
    docker();
    hosts.lockHeld((host, attempt) => (attempt <= 3 ? holder() : undefined));
    const run = await runCommand(['app', 'stop', '--lock-wait', '5'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    const trace = hosts.trace();
    assert.equal(trace.filter((line) => line === `${H1}: lock acquire`).length, 4, 'three refusals, then taken');
    assert.ok(first(trace, /: docker stop/) > last(trace, /: lock acquire/), 'the steps wait for the lock');
    assert.equal(hosts.audits.length, 2);
  });

  test('without --lock-wait the same held lock is asked once', async () => {
    const { hosts } = hostsIn(deployed());
    hosts.lockHeld((_host, attempt) => (attempt <= 3 ? holder() : undefined));
    const run = await runCommand(['app', 'stop'], hosts.runner);
    assert.equal(run.code, 75);
    assert.equal(hosts.trace().filter((line) => line.endsWith('lock acquire')).length, 1);
  });

  test('a failed step: the audit line says FAILED, the lock is released, the error names the host', async () => {
    const { hosts, docker } = hostsIn(deployed());
    hosts.runner.on({ host: H2, prefix: ['docker', 'stop'] }, fail('Error response from daemon: cannot stop container: permission denied'));
    docker();
    const run = await runCommand(['app', 'stop'], hosts.runner);
    assert.equal(run.code, 1, String(run.error));
    assert.match(String(run.error), /h2\.test: stop app-web-v1: `docker stop -t 30 \w+` failed \(exit 1\):\nError response from daemon: cannot stop container: permission denied/);
    assert.deepEqual(hosts.audits.map((a) => a.host), [H1, H2]);
    for (const { message } of hosts.audits) assert.match(message, /^app stop: FAILED \(apply failed: h2\.test: stop app-web-v1: /);
    const trace = hosts.trace();
    assert.deepEqual(trace.slice(-2), [`${H1}: lock release`, `${H2}: lock release`]);
    assert.ok(last(trace, /: audit /) < first(trace, /lock release/));
  });

  test('the lease lost during the run: no further step starts, the run fails (exit 75) and the lock is released', async () => {
    const { hosts, docker } = hostsIn(deployed());
    // Traefik keeps routing to the drained containers: each drain waits (up to a minute) ...
    let double: DockerDouble | undefined;
    const everyWebServer = () =>
      Object.fromEntries([H1, H2].flatMap((host) => double!.containers(host)).filter((c) => c.name === 'app-web-v1').map((c) => [`http://${c.ip}:3000`, 'UP']));
    hosts.runner.on({ prefix: ['docker', 'exec', 'traefik'] }, (call) =>
      call.argv!.at(-1)!.endsWith('/api/http/services/app-web@docker') ? { code: 0, stdout: JSON.stringify({ serverStatus: everyWebServer() }), stderr: '' } : undefined,
    );
    double = docker();
    // ... and the second renewal finds the lock taken over on h2
    hosts.leaseLost((host, renewal) => host === H2 && renewal >= 2);
    // lock warnings go where the CLI sets them (src/cli/main.ts: its error output)
    const warnings: string[] = [];
    setLockWarningHandler((message) => warnings.push(message));
    const started = Date.now();
    const run = await runCommand(['app', 'stop'], hosts.runner, { timings: { pollIntervalMs: 2, drainGraceMs: 0, lockRetryMs: 5, leaseRenewMs: 20 } });
    assert.ok(Date.now() - started < 1000, 'the wait ended when the lease was lost');
    assert.ok(run.error instanceof LockHeldError, String(run.error));
    assert.equal(run.code, 75);
    assert.match(String(run.error), /the deploy lock was lost during the run on h2\.test/);
    setLockWarningHandler(() => {});
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^h2\.test: the deploy lock is no longer ours \(the lock was removed\): another run may change this host; this run stops$/);
    const trace = hosts.trace();
    // the job worker (no drain) may have stopped at once; no web container's stop ever started
    const webIds = [H1, H2].map((host) => double.containers(host).find((c) => c.name === 'app-web-v1')!.id);
    const stopped = hosts.runner.calls.filter((c) => c.argv?.[1] === 'stop').map((c) => c.argv!.at(-1)!);
    assert.deepEqual(stopped.filter((id) => webIds.includes(id)), [], 'no web container was stopped after its drain was cut short');
    assert.ok(double.containers(H1).concat(double.containers(H2)).filter((c) => c.name === 'app-web-v1').every((c) => c.running));
    assert.ok(trace.filter((line) => line.endsWith('lock renew')).length >= 2);
    assert.ok(hosts.audits.every((a) => /^app stop: FAILED/.test(a.message)), JSON.stringify(hosts.audits));
    assert.deepEqual(trace.slice(-2), [`${H1}: lock release`, `${H2}: lock release`]);
  });
});

describe('each command asks for its own plan', () => {
  test('traefik reboot: each host its own batch, every step of h1 before any of h2', async () => {
    const { hosts, docker } = hostsIn(deployed());
    docker();
    const run = await runCommand(['traefik', 'reboot'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    assert.match(run.stdout, /h1\.test {2}\(batch 1\)/);
    assert.match(run.stdout, /h2\.test {2}\(batch 2\)/);
    const steps = dockerLines(hosts.trace());
    const lastOfH1 = last(steps, /^h1\.test: /);
    const firstOfH2 = first(steps, /^h2\.test: /);
    assert.ok(lastOfH1 > 0 && firstOfH2 > lastOfH1, steps.join('\n'));
    // on each host: the old Traefik stopped and removed, the new one run, answering and routing before the next host
    for (const host of [H1, H2]) {
      const mine = steps.filter((line) => line.startsWith(`${host}: `));
      const order = [/docker pull traefik/, /docker stop/, /docker rm -f/, /docker run -d --name traefik/, /\/ping$/, /services\/app-web@docker$/].map((p) => first(mine, p));
      assert.ok(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)), `${host}: ${mine.join('\n')}`);
    }
    assert.deepEqual(hosts.audits.map((a) => a.message), ['traefik reboot: applied 12 steps, version v1', 'traefik reboot: applied 12 steps, version v1']);
  });

  for (const verb of ['stop', 'remove'] as const) {
    test(`traefik ${verb}: only the Traefik container on each host, audited as traefik ${verb}`, async () => {
      const { hosts, docker } = hostsIn(deployed());
      const double = docker();
      const traefikIds = [H1, H2].map((host) => double.containers(host).find((c) => c.name === 'traefik')!.id);
      const run = await runCommand(['traefik', verb, ...(verb === 'remove' ? ['-y'] : [])], hosts.runner);
      assert.equal(run.code, 0, String(run.error));
      const changed = hosts.runner.calls.filter((c) => c.argv?.[1] === 'stop' || c.argv?.[1] === 'rm').map((c) => c.argv!.at(-1)!);
      assert.deepEqual([...new Set(changed)].sort(), [...traefikIds].sort());
      assert.deepEqual(hosts.audits.map((a) => a.message), [H1, H2].map(() => `traefik ${verb}: applied ${verb === 'stop' ? 2 : 4} steps, version v1`));
      assert.ok([H1, H2].every((host) => double.containers(host).some((c) => c.name === 'app-web-v1' && c.running)), 'the app is left running');
    });
  }

  test('app stop: each web container is drained from Traefik before it is stopped', async () => {
    const { hosts, docker } = hostsIn(deployed());
    const double = docker();
    const web = (host: string) => double.containers(host).find((c) => c.name === 'app-web-v1')!;
    const ids: Record<string, string> = { [H1]: web(H1).id, [H2]: web(H2).id };
    const run = await runCommand(['app', 'stop'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    const trace = hosts.trace();
    for (const host of [H1, H2]) {
      const cut = first(trace, new RegExp(`^${host}: sh -c 'rm -f /home/deploy/\\.mrsk/app/cords/app-web-v1/ok'$`));
      const inside = first(trace, new RegExp(`^${host}: docker exec ${ids[host]} rm -f /run/mrsk/cord/ok$`));
      const asked = first(trace, new RegExp(`^${host}: docker exec traefik .*services/app-web@docker$`));
      const stop = first(trace, new RegExp(`^${host}: docker stop -t 30 ${ids[host]}$`));
      assert.ok(cut >= 0 && inside > cut && asked > inside && stop > asked, `${host}:\n${trace.join('\n')}`);
      assert.equal(web(host).running, false);
    }
    assert.match(run.stdout, /Stopped app on 2 host\(s\)/);
  });

  test('app start on serving hosts plans nothing and runs nothing, under the lock all the same', async () => {
    const { hosts, docker } = hostsIn(deployed());
    docker();
    const run = await runCommand(['app', 'start'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    assert.match(run.stdout, /app is serving on every selected host: nothing to start\./);
    assert.deepEqual(dockerLines(hosts.trace()), []);
    assert.deepEqual(hosts.audits, [], 'no change, no audit line');
    assert.deepEqual(hosts.trace().slice(-2), [`${H1}: lock release`, `${H2}: lock release`]);
  });

  test('prune never sends docker rm for a running container (captured hosts: deployed, and troubled with an unhealthy and a restarting one)', async () => {
    const captured = parseProbeOutput(H1, fixture('deployed-host.txt'), 'app') as ReachableHost;
    const v1 = captured.containers.find((c) => c.name === 'app-web-v1')!;
    // one more retained version than retain_containers (1) keeps: the oldest goes
    const h1: ReachableHost = {
      ...captured,
      containers: [...captured.containers, { ...v1, id: 'f'.repeat(64), name: 'app-web-v0', labels: { ...v1.labels, 'mrsk.version': 'v0' }, createdAt: '2026-11-26T03:00:00Z' }],
    };
    // the troubled host without its held lock (a lock is the acquire script's answer here)
    const troubled = fixture('troubled-host.txt').replace(/\n@@mrsk-probe lock@@\n[^\n]*/, '');
    const h2 = parseProbeOutput(H2, troubled, 'app') as ReachableHost;
    const hosts = new ScriptedHosts(config);
    used.push(hosts);
    hosts.probe(H1, h1).probe(H2, troubled);
    new DockerDouble(hosts.runner, [h1, h2], config.service);
    const run = await runCommand(['prune'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    const removed = hosts.runner.calls.filter((c) => c.argv?.[0] === 'docker' && c.argv[1] === 'rm').map((c) => `${c.host} ${c.argv!.at(-1)}`);
    assert.deepEqual(removed, [`${H1} ${'f'.repeat(64)}`], 'the one container beyond retain_containers');
    const running = [h1, h2].flatMap((h) => h.containers.filter((c) => c.state === 'running' || c.state === 'restarting').map((c) => `${h.host} ${c.id}`));
    assert.ok(running.length >= 5);
    for (const id of running) assert.ok(!removed.includes(id), `a running container was removed: ${id}`);
    assert.deepEqual(hosts.audits, [{ host: H1, message: 'prune all: applied 2 steps, version v2' }]);
  });

  test('remove: no audit line (the state folder goes), and the empty folder is removed after the lock is released', async () => {
    const { hosts, docker } = hostsIn(deployed());
    docker();
    const run = await runCommand(['remove', '-y'], hosts.runner);
    assert.equal(run.code, 0, String(run.error));
    assert.deepEqual(hosts.audits, []);
    const trace = hosts.trace();
    assert.ok(!trace.some((line) => / audit /.test(line)));
    const root = shq(hostPaths(config.service, config.destination).root);
    const rmdir = `sh -c 'rmdir ${root} 2>/dev/null; rmdir .mrsk 2>/dev/null; true'`;
    assert.deepEqual(trace.slice(-4).sort(), [`${H1}: lock release`, `${H1}: ${rmdir}`, `${H2}: lock release`, `${H2}: ${rmdir}`].sort());
    for (const host of [H1, H2]) assert.ok(trace.indexOf(`${host}: ${rmdir}`) > last(trace, /lock release/), 'after the unlock');
    assert.ok(first(trace, /state-remove|find .*\.mrsk\/app/) > 0, 'the state folder was emptied by a step');
  });

  test('apply FILE refuses a stale saved plan before any step; the same file applies while the hosts are unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrsk-pipeline-'));
    try {
      const file = join(dir, 'plan.json');
      const state = deployed();
      const stopped = { ...state, [H1]: withContainer(state[H1]!, 'app-web-v1', { state: 'exited', exitCode: 0 }) };
      const planned = hostsIn(stopped);
      const saved = await runCommand(['plan', '--out', file], planned.hosts.runner);
      assert.equal(saved.code, 0, String(saved.error));
      assert.ok((await readFile(file, 'utf8')).includes('container-start'));

      // the hosts changed since: someone started the container by hand
      const changed = hostsIn(state);
      changed.docker();
      const stale = await runCommand(['apply', file, '-y'], changed.hosts.runner);
      assert.ok(stale.error instanceof StalePlanError, String(stale.error));
      assert.match(String(stale.error), /is stale: the hosts changed since it was made/);
      assert.deepEqual(dockerLines(changed.hosts.trace()), [], 'no step ran');
      assert.deepEqual(changed.hosts.audits, []);
      assert.deepEqual(changed.hosts.trace(), [`${H1}: lock acquire`, `${H1}: probe`, `${H1}: lock release`], 'a saved plan locks and reads only its hosts');

      const same = hostsIn(stopped);
      same.docker();
      const applied = await runCommand(['apply', file, '-y'], same.hosts.runner);
      assert.equal(applied.code, 0, String(applied.error));
      assert.ok(same.hosts.trace().some((line) => line.startsWith(`${H1}: docker start `)));
      assert.equal(same.hosts.audits.length, 1);
      assert.match(same.hosts.audits[0]!.message, new RegExp(`^apply ${file.replace(/[.]/g, '\\.')}: applied \\d+ steps, version v1$`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('drift --fix plans nothing for a host whose only finding cannot be fixed', async () => {
    const state = deployed();
    const drifted = {
      [H1]: withContainer(state[H1]!, 'app-web-v1', { state: 'exited', exitCode: 137 }), // fixable: start it again
      [H2]: withContainer(state[H2]!, 'app-web-v1', { health: 'unhealthy' }), // not fixable: a new release replaces it
    };
    const { hosts, docker } = hostsIn(drifted);
    docker();
    const run = await runCommand(['drift', '--fix'], hosts.runner);
    assert.match(run.stdout, /container unhealthy/);
    const trace = hosts.trace();
    assert.ok(trace.some((line) => line.startsWith(`${H1}: docker start `)), trace.join('\n'));
    assert.deepEqual(trace.filter((line) => line.startsWith(`${H2}: `) && !line.endsWith(': probe')), [], 'h2 is neither locked nor changed');
    assert.deepEqual(hosts.audits.map((a) => a.host), [H1]);
  });
});
