// `mrsk setup` and `mrsk deploy` on hosts without their configured runtime, driven through the real
// commands with the hosts behind a ScriptedRunner (test/helpers/session.ts). What the Podman e2e
// cannot show: installing Podman (the bed shares /usr with this machine) and an SSH user that is
// not root. A host without a runtime is answered by a real sh whose PATH holds nothing, so
// `podman version`, `command -v podman` and auto's detection fail as they would on such a host;
// only the install itself is scripted (it would run apt-get here).
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';
import { HostError, LockHeldError } from '../../../src/errors.ts';
import { installRuntimeScript } from '../../../src/commands/setup.ts';
import { DETECT_RUNTIME_SCRIPT } from '../../../src/apply/host-runtimes.ts';
import { probeScript } from '../../../src/probe/script.ts';
import { runtimeVersion } from '../../../src/runtime/runtime.ts';
import { commandToShell } from '../../../src/shell/quote.ts';
import type { LockInfo } from '../../../src/probe/types.ts';
import { ok, type ScriptedCall } from '../../helpers/scripted-runner.ts';
import { runCommand, ScriptedHosts } from '../../helpers/session.ts';

const H1 = 'h1.test';
const H2 = 'h2.test';
const FIXTURES = fileURLToPath(new URL('./fixtures/runtimes/', import.meta.url));
const PODMAN = join(FIXTURES, 'podman.yml');
const PODMAN_DEPLOYER = join(FIXTURES, 'podman-deployer.yml');
const AUTO = join(FIXTURES, 'auto.yml');

const load = (file: string): Promise<Config> => loadConfig({ file, cwd: process.cwd(), env: {} });
const probeFixture = (name: string): string => readFileSync(new URL(`../../../fixtures/probe/${name}`, import.meta.url), 'utf8');

/** A PATH with no command at all: no runtime, no package manager. */
const emptyPath = mkdtempSync(join(tmpdir(), 'mrsk-setup-runtime-'));
after(() => rmSync(emptyPath, { recursive: true, force: true }));

/** What a host without any runtime answers: the call's shell line run by a real sh with an empty PATH. */
function bareHostAnswer(call: ScriptedCall) {
  const result = spawnSync('/bin/sh', ['-c', call.line], { env: { PATH: emptyPath }, encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw result.error;
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

const used: ScriptedHosts[] = [];
afterEach(() => {
  for (const hosts of used.splice(0)) hosts.runner.assertNoUnexpected();
});

/**
 * Hosts of `config` answering mrsk's scripts (lock, audit); `bare` hosts have no runtime at all,
 * the others have Podman 4.3.1. The Podman probe of every host answers `probes[host]`.
 */
function podmanHosts(config: Config, bare: readonly string[], probes: Readonly<Record<string, string>> = {}): ScriptedHosts {
  const hosts = new ScriptedHosts(config);
  used.push(hosts);
  const runner = hosts.runner;
  for (const host of bare) {
    runner
      .on({ host, prefix: ['podman', 'version'] }, bareHostAnswer)
      .on({ host, prefix: ['docker', 'version'] }, bareHostAnswer)
      .on({ host, script: (s) => s === 'command -v podman' || s === 'command -v docker' || s === DETECT_RUNTIME_SCRIPT }, bareHostAnswer);
  }
  runner.on({ argv: ['podman', 'version', '--format', '{{.Server.Version}}'] }, (call) => (bare.includes(call.host) ? undefined : ok('4.3.1\n')));
  const podmanProbe = probeScript(config.service, config.destination, { imageRepo: config.image, runtime: 'podman' });
  runner.on({ script: podmanProbe }, (call) => (probes[call.host] === undefined ? undefined : ok(probes[call.host])));
  return hosts;
}

function holder(): LockInfo {
  const now = Date.now();
  return { id: 'other-run', holder: 'alice@laptop', command: 'deploy v9', acquiredAt: new Date(now - 60_000).toISOString(), leaseExpiresAt: new Date(now + 600_000).toISOString() };
}

// the trace names a call by the shell line the SSH runner would send
const PODMAN_VERSION = commandToShell(runtimeVersion('podman'));
const DOCKER_VERSION = commandToShell(runtimeVersion('docker'));
const script = (text: string) => commandToShell({ script: text });

/** The lines of one host, in order. */
const onHost = (trace: readonly string[], host: string) => trace.filter((line) => line.startsWith(`${host}: `)).map((line) => line.slice(host.length + 2));

describe('mrsk setup: the configured runtime on each host', () => {
  test('the fixture configs ask what the tests say (podman as root, podman as deployer, auto)', async () => {
    const [podman, deployer, auto] = await Promise.all([load(PODMAN), load(PODMAN_DEPLOYER), load(AUTO)]);
    assert.deepEqual([podman.runtime, podman.ssh.user], ['podman', 'root']);
    assert.deepEqual([deployer.runtime, deployer.ssh.user], ['podman', 'deployer']);
    assert.deepEqual([auto.runtime, auto.ssh.user], ['auto', 'root']);
    assert.deepEqual(podman.hostRuntimes, { [H1]: 'podman', [H2]: 'podman' });
  });

  test('the bare host answers as a host without Podman would (real sh, empty PATH)', () => {
    const version = bareHostAnswer({ line: "podman version --format '{{.Server.Version}}'" } as ScriptedCall);
    assert.equal(version.code, 127);
    assert.match(version.stderr, /podman: not found/);
    const which = bareHostAnswer({ line: 'command -v podman' } as ScriptedCall);
    assert.notEqual(which.code, 0);
    assert.equal(which.stdout, '');
    assert.deepEqual(bareHostAnswer({ line: DETECT_RUNTIME_SCRIPT } as ScriptedCall), { code: 0, stdout: 'none\n', stderr: '' });
  });

  test('root, no Podman: the host gets exactly the Podman install, then setup goes on (probe, lock)', async () => {
    const config = await load(PODMAN);
    const hosts = podmanHosts(config, [H1], { [H1]: probeFixture('podman-deployed.txt'), [H2]: probeFixture('podman-deployed.txt') });
    const install = installRuntimeScript('podman');
    assert.match(install, /apt-get install -y -qq podman;/);
    hosts.runner.on({ host: H1, script: install }, ok());
    // the stop: someone else holds the lock, so nothing is changed after the install
    hosts.lockHeld(() => holder());
    const run = await runCommand(['setup', '--skip-push', '--version', 'v1'], hosts.runner, { config: PODMAN });
    assert.ok(run.error instanceof LockHeldError, String(run.error));
    assert.equal(run.code, 75);
    const trace = hosts.trace();
    assert.deepEqual(onHost(trace, H1), [PODMAN_VERSION, script('command -v podman'), script(install), 'probe', 'lock acquire']);
    assert.deepEqual(onHost(trace, H2), [PODMAN_VERSION, 'probe'], 'a host with Podman installs nothing');
    // every host is checked (and installed) before the first probe
    assert.ok(trace.indexOf(`${H1}: ${script(install)}`) < trace.indexOf(`${H1}: probe`));
    assert.ok(trace.indexOf(`${H1}: ${script(install)}`) < trace.indexOf(`${H2}: probe`));
    assert.equal(hosts.runner.calls.filter((call) => call.script === install).length, 1);
    assert.match(run.stdout + run.stderr, /h1\.test: installing Podman…/);
    assert.match(run.stdout + run.stderr, /h2\.test: Podman 4\.3\.1/);
  });

  test('a failed install stops setup before the probe, naming the host and the package manager\'s words', async () => {
    const config = await load(PODMAN);
    const hosts = podmanHosts(config, [H1]);
    hosts.runner.on({ host: H1, script: installRuntimeScript('podman') }, { code: 100, stdout: '', stderr: 'E: Unable to locate package podman\n' });
    const run = await runCommand(['setup', '--skip-push', '--version', 'v1'], hosts.runner, { config: PODMAN });
    assert.ok(run.error instanceof HostError, String(run.error));
    assert.equal(run.code, 69);
    assert.equal(run.error.host, H1);
    assert.match(run.error.message, /installing Podman failed: E: Unable to locate package podman/);
    assert.deepEqual(hosts.trace().filter((line) => /probe|lock/.test(line)), [], 'no probe, no lock');
  });

  test('SSH user not root, no Podman: exit 69 naming the host, Podman missing and the user not root; nothing else ran', async () => {
    const config = await load(PODMAN_DEPLOYER);
    const hosts = podmanHosts(config, [H1]);
    const run = await runCommand(['setup', '--skip-push', '--version', 'v1'], hosts.runner, { config: PODMAN_DEPLOYER });
    assert.ok(run.error instanceof HostError, String(run.error));
    assert.equal(run.code, 69);
    assert.equal(run.error.host, H1);
    assert.match(run.error.message, /Podman is missing \(runtime: podman\) and the SSH user is not root: install Podman on h1\.test first, or connect as root/);
    assert.doesNotMatch(run.error.message, /h2\.test/);
    const trace = hosts.trace();
    assert.deepEqual(onHost(trace, H1), [PODMAN_VERSION, script('command -v podman')]);
    assert.deepEqual(onHost(trace, H2), [PODMAN_VERSION]);
    assert.deepEqual(hosts.audits, []);
  });

  test('SSH user not root on two hosts without Podman: one exit 69 listing both', async () => {
    const config = await load(PODMAN_DEPLOYER);
    const hosts = podmanHosts(config, [H1, H2]);
    const run = await runCommand(['setup', '--skip-push', '--version', 'v1'], hosts.runner, { config: PODMAN_DEPLOYER });
    assert.ok(run.error instanceof HostError, String(run.error));
    assert.equal(run.code, 69);
    assert.match(run.error.message, /the container runtime is not ready on 2 of 2 host\(s\), so nothing was deployed/);
    for (const host of [H1, H2]) assert.match(run.error.message, new RegExp(`  ${host.replace('.', '\\.')}: Podman is missing \\(runtime: podman\\) and the SSH user is not root`));
    for (const host of [H1, H2]) assert.deepEqual(onHost(hosts.trace(), host), [PODMAN_VERSION, script('command -v podman')]);
  });

  test('runtime auto with neither runtime: exit 69 with the auto message; nothing installed', async () => {
    const config = await load(AUTO);
    const hosts = podmanHosts(config, [H1, H2]);
    const run = await runCommand(['setup', '--skip-push', '--version', 'v1'], hosts.runner, { config: AUTO });
    assert.ok(run.error instanceof HostError, String(run.error));
    assert.equal(run.code, 69);
    assert.match(run.error.message, /2 of 2 host\(s\)/);
    for (const host of [H1, H2]) {
      assert.match(run.error.message, new RegExp(`  ${host.replace('.', '\\.')}: no container runtime is installed \\(runtime: auto\\): install Docker or Podman, or set runtime to docker or podman`));
      // auto's detection says none, so docker's own command is asked (and is not there either)
      assert.deepEqual(onHost(hosts.trace(), host), [script(DETECT_RUNTIME_SCRIPT), DOCKER_VERSION, script('command -v docker')]);
    }
    assert.ok(!hosts.runner.calls.some((call) => call.script?.includes('install')), 'nothing installed');
  });
});

describe('mrsk deploy: a host whose probe finds no Podman', () => {
  test('exit 69 naming the host and `podman is not installed (runtime: podman)`; nothing ran but the lock and the probe under it', async () => {
    const config = await load(PODMAN);
    const hosts = podmanHosts(config, [], { [H1]: probeFixture('podman-missing.txt'), [H2]: probeFixture('podman-deployed.txt') });
    const run = await runCommand(['deploy', '--skip-push', '--version', 'v1'], hosts.runner, { config: PODMAN });
    assert.ok(run.error instanceof HostError, String(run.error));
    assert.equal(run.code, 69);
    assert.equal(run.error.host, H1);
    assert.match(run.error.message, /\n  h1\.test: runtime-missing: podman is not installed \(runtime: podman\)/);
    assert.doesNotMatch(run.error.message, /\n  h2\.test: /, 'the host with Podman is not one that cannot be used');
    // nothing to build: the one read is under the lock, which is released again
    const trace = hosts.trace();
    assert.deepEqual(trace, [`${H1}: lock acquire`, `${H2}: lock acquire`, `${H1}: probe`, `${H2}: probe`, `${H1}: lock release`, `${H2}: lock release`], 'nothing but the lock and the probe ran');
  });
});
