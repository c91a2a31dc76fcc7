// What `mrsk deploy` checks before it changes anything, on the test bed, as a user meets it: a
// Docker daemon that does not run, a wrong SSH key, a host whose sshd refuses connections, and a
// host that cannot reach the registry. Each fails fast with a message that names the machine,
// what was seen and the fix, exits non-zero, and leaves every host as it was (no container, no
// lock, no image pushed). Timings are measured and printed.
//
// It uses its own service (`checksdemo`, routed only for Host(`checksdemo.test`)), so a mistake
// here could never touch the other suites' `demo`. Faults are made with real means in the host's
// own network namespace (iptables) and are always removed again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { bringUp, deployConfig, registryHas, repoRoot, run, runOk, type Bed, type ProcessResult } from './harness.ts';

const SERVICE = 'checksdemo';
/** A version no run ever pushes: the registry must never get it. */
const VERSION = `checks-${Date.now().toString(36)}`;
/** Generous for a shared, busy 2-core machine (a failing check takes 1–5 s there, node start-up included); the proof that no build ran is the missing "Building" line. */
const FAST_MS = 20_000;

let bed: Bed;
let workDir: string;
let configFile: string;

function mrsk(args: readonly string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return bed.mrsk(['-c', configFile, ...args], { timeoutMs: 120_000, env });
}

/** What a failed deploy must not have changed on host I: containers, images, this service's files (lock included). */
async function hostState(hostIndex: number): Promise<string> {
  const result = await bed.ssh(
    hostIndex,
    `docker ps -a --format '{{.ID}} {{.Names}} {{.State}}' | sort; echo --; docker images -q --no-trunc | sort; echo --; ls -AR ~/.mrsk/${SERVICE} 2>/dev/null; true`,
    { timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, `reading host ${hostIndex}: ${result.stderr}`);
  return result.stdout;
}

async function allHostStates(): Promise<string[]> {
  return Promise.all(bed.hosts.map((_, index) => hostState(index + 1)));
}

/** Runs iptables in host I's network namespace. */
function iptables(hostIndex: number, ...args: string[]): Promise<ProcessResult> {
  return runOk('ip', ['netns', 'exec', `${bed.env.MRSK_TESTBED_PREFIX ?? 'mrsk'}-h${hostIndex}`, 'iptables', ...args]);
}

function assertNoSecret(result: ProcessResult): void {
  const output = result.stdout + result.stderr;
  assert.ok(!output.includes(bed.appSecret), 'the app secret was printed');
  const password = bed.env.MRSK_REGISTRY_PASSWORD ?? '';
  assert.ok(password && !output.includes(password), 'the registry password was printed');
}

function show(result: ProcessResult): string {
  return `exit ${result.code} after ${result.ms} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

describe('deploy checks before it builds or changes anything', { timeout: 600_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    workDir = await mkdtemp(join(tmpdir(), 'mrsk-checks-e2e-'));
    await mkdir(join(workDir, 'config'));
    const config = parse(await readFile(deployConfig, 'utf8')) as Record<string, any>;
    config.service = SERVICE;
    config.servers.web = {
      hosts: config.servers.web,
      traefik: { labels: { [`traefik.http.routers.${SERVICE}-web.rule`]: 'Host(`checksdemo.test`)' } },
    };
    config.builder.context = join(repoRoot, 'fixtures', 'app');
    configFile = join(workDir, 'config', 'deploy.yml');
    await writeFile(configFile, stringify(config));
    // a key the hosts do not accept
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-authorized', '-f', join(workDir, 'wrong_key')]);
  });
  after(async () => {
    await bed?.tearDown();
  });

  test('no Docker daemon to build with: the builder is named with the fix, exit 69, no host is contacted', async () => {
    const before = await allHostStates();
    // Under `unshare -n` (no network at all): the refusal must come before any connection.
    const result = await run('unshare', ['-n', process.execPath, join(repoRoot, 'bin', 'mrsk.js'), '-c', configFile, 'deploy', '--version', VERSION], {
      env: { ...bed.env, APP_SECRET: bed.appSecret, DOCKER_HOST: 'unix:///nonexistent', NO_COLOR: '1' },
      timeoutMs: 60_000,
    });
    console.log(`time: deploy with no Docker daemon failed in ${result.ms} ms`);
    assert.equal(result.code, 69, show(result));
    assert.match(result.stderr, /error: cannot reach the Docker daemon that builds images \(unix:\/\/\/nonexistent\): start Docker, or set builder\.remote/, show(result));
    assert.doesNotMatch(result.stdout + result.stderr, /https|HTTPS|docker login|Building/, show(result));
    assertNoSecret(result);
    assert.deepEqual(await allHostStates(), before, 'a host changed');
    assert.equal(await registryHas(bed.env, 'demo-app', VERSION), false);
  });

  test('a wrong SSH key fails in seconds, before the build starts, naming every host (exit 69)', async () => {
    const before = await allHostStates();
    const result = await mrsk(['deploy', '--version', VERSION], { MRSK_TESTBED_KEY: join(workDir, 'wrong_key') });
    console.log(`time: deploy with a wrong SSH key failed in ${result.ms} ms`);
    assert.equal(result.code, 69, show(result));
    for (const host of bed.hosts) assert.match(result.stderr, new RegExp(`^ {2}${host.replaceAll('.', '\\.')}: auth-failed: authentication failed for root@`, 'm'), show(result));
    assert.match(result.stderr, /cannot be used, so nothing was deployed to any host/);
    assert.doesNotMatch(result.stdout, /Building|Logged in/, `the build started:\n${show(result)}`);
    assert.ok(result.ms < FAST_MS, `took ${result.ms} ms`);
    assertNoSecret(result);
    assert.deepEqual(await allHostStates(), before, 'a host changed');
    assert.equal(await registryHas(bed.env, 'demo-app', VERSION), false);
  });

  test('a host whose sshd refuses connections stops the deploy before the build, with the way to deploy the other host', async () => {
    const before = await allHostStates();
    const [host1, host2] = bed.hosts as [string, string];
    const rule = ['INPUT', '-p', 'tcp', '--dport', '22', '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    await iptables(2, '-I', ...rule);
    let result: ProcessResult;
    try {
      result = await mrsk(['deploy', '--version', VERSION]);
    } finally {
      await iptables(2, '-D', ...rule);
    }
    console.log(`time: deploy with one host refusing SSH failed in ${result.ms} ms`);
    assert.equal(result.code, 69, show(result));
    assert.match(result.stderr, new RegExp(`^error: ${host2.replaceAll('.', '\\.')}: cannot be used, so nothing was deployed to any host:\n {2}${host2.replaceAll('.', '\\.')}: unreachable: .*ECONNREFUSED`, 'm'), show(result));
    assert.match(result.stderr, new RegExp(`run again with --skip-unreachable to deploy ${host1.replaceAll('.', '\\.')} and record ${host2.replaceAll('.', '\\.')} as behind`), show(result));
    assert.doesNotMatch(result.stdout, /Building/, `the build started:\n${show(result)}`);
    assert.ok(result.ms < FAST_MS, `took ${result.ms} ms`);
    assert.deepEqual(await allHostStates(), before, 'a host changed');
  });

  test('a host that cannot reach the registry: the login names that host and why, the deploy stops with no lock left and no container started', async () => {
    const before = await allHostStates();
    const [registryAddress, registryPort = '5000'] = bed.registry.split(':') as [string, string?];
    const rule = ['OUTPUT', '-p', 'tcp', '-d', registryAddress, '--dport', registryPort, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    await iptables(2, '-I', ...rule);
    let result: ProcessResult;
    try {
      result = await mrsk(['deploy', '--version', VERSION, '--skip-push']);
    } finally {
      await iptables(2, '-D', ...rule);
    }
    console.log(`time: deploy with a host cut off from the registry failed in ${result.ms} ms`);
    const host2 = bed.hosts[1]!.replaceAll('.', '\\.');
    assert.equal(result.code, 69, show(result));
    assert.match(result.stderr, new RegExp(`^error: ${host2}: registry login to ${bed.registry.replaceAll('.', '\\.')} failed on 1 of 2 host\\(s\\), so nothing was deployed:\n {2}${host2}: docker login exited 1: .*connection refused.* — that machine cannot reach the registry`, 'm'), show(result));
    assertNoSecret(result);
    // the login on the other host may have stored its credentials; nothing else changed
    assert.deepEqual(await allHostStates(), before, 'a host changed');
    const status = await mrsk(['lock', 'status']);
    assert.equal(status.code, 0, show(status));
    for (const host of bed.hosts) assert.match(status.stdout, new RegExp(`^${host.replaceAll('.', '\\.')}: unlocked$`, 'm'), status.stdout);
  });
});
