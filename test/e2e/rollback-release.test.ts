// Rollback restores the release, not just its image (issue 18), on the test bed: v1 runs with one
// env, v2 is deployed with another, and `mrsk rollback <v1's release id>` with v2's config brings
// v1 back with v1's env, under load, without a failed request and without pulling. The ledger
// holds no secret value.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { assertNoFailures, bringUp, curl, deployConfig, load, repoRoot, runOk, underLoad, type Bed } from './harness.ts';

let bed: Bed;
/** deploy.yml with another APP_GREETING: the config v2 is deployed with, and the current one at the rollback. */
let v2Config: string;
const V1_GREETING = 'hello from the test bed';
const V2_GREETING = 'hello from v2 config';
const urls = () => bed.hosts.map((h) => `http://${h}/`);

function assertOk(result: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

/** The env of a container on a bed host, as docker has it. */
async function containerEnv(hostIndex: number, name: string): Promise<string[]> {
  const inspected = await bed.ssh(hostIndex, `docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ${name}`);
  assert.equal(inspected.code, 0, inspected.stderr);
  return inspected.stdout.split('\n').filter(Boolean);
}

/** The running app containers of the demo service on a bed host. */
async function running(hostIndex: number): Promise<string[]> {
  const ps = await bed.ssh(hostIndex, "docker ps --filter label=mrsk.service=demo --format '{{.Names}}'");
  assert.equal(ps.code, 0, ps.stderr);
  return ps.stdout.split('\n').filter(Boolean).sort();
}

describe('rollback restores a release on the test bed', { timeout: 1_200_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v2']);
    const text = await readFile(deployConfig, 'utf8');
    assert.ok(text.includes(`APP_GREETING: ${V1_GREETING}`), 'deploy.yml sets the greeting this test changes');
    v2Config = join(await mkdtemp(join(tmpdir(), 'mrsk-rollback-release-')), 'deploy.yml');
    await writeFile(v2Config, text.replace(`APP_GREETING: ${V1_GREETING}`, `APP_GREETING: ${V2_GREETING}`));
    // a clean slate even when an earlier run was interrupted
    assertOk(await bed.mrsk(['remove', '-y']), 'remove');
  });
  after(async () => {
    await bed?.tearDown();
  });

  test('v1 with its env, v2 with another, rollback to v1\'s release under load: v1\'s env is back, zero failures, no pull', async () => {
    assertOk(await bed.mrsk(['setup', '--version', 'v1', '--skip-push']), 'setup v1');
    assert.ok((await containerEnv(1, 'demo-web-v1')).includes(`APP_GREETING=${V1_GREETING}`));
    assertOk(await bed.mrsk(['deploy', '--skip-push', '--version', 'v2', '-c', v2Config]), 'deploy v2');
    for (const host of [1, 2]) assert.ok((await containerEnv(host, 'demo-web-v2')).includes(`APP_GREETING=${V2_GREETING}`));

    // v1's release id, from the ledger of the first host
    const releases = await bed.mrsk(['releases', '--json', '-c', v2Config]);
    assertOk(releases, 'releases');
    const ledger = JSON.parse(releases.stdout) as { hosts: { host: string; releases: { id: string; version: string; desired?: unknown }[] }[] };
    const v1 = ledger.hosts[0]!.releases.find((r) => r.version === 'v1');
    assert.ok(v1, releases.stdout);
    assert.ok(v1.desired, 'the release keeps its desired state');
    // the ledger on the hosts holds no secret value (the secret's name, yes)
    for (const host of [1, 2]) {
      const files = await bed.ssh(host, 'cat ~/.mrsk/demo/releases/*.json');
      assert.equal(files.code, 0, files.stderr);
      assert.ok(!files.stdout.includes(bed.appSecret), 'a secret value in the ledger');
      assert.ok(files.stdout.includes('"APP_SECRET"'), 'the secret is recorded by name');
    }

    // rollback with v2's config as the current one: the release's env comes back
    const started = Date.now();
    const { result, traffic } = await underLoad(urls(), () => bed.mrsk(['rollback', v1.id, '-c', v2Config]));
    console.log(`rollback to release ${v1.id}: ${((Date.now() - started) / 1000).toFixed(1)}s; ${traffic.sent} requests, ${traffic.failed} failed; served ${JSON.stringify(traffic.bodies)}`);
    assertOk(result, 'rollback');
    assert.ok(traffic.sent >= 20, `the load generator sent only ${traffic.sent} requests`);
    assert.equal(traffic.failed, 0, `failed requests: ${JSON.stringify(traffic.failures.slice(0, 10))}`);
    assert.doesNotMatch(result.stdout, /pull /, 'a rollback to a retained release must not pull');
    assert.doesNotMatch(result.stderr, /keeps no config|no record of release/, 'the release restores its config');
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(bed.appSecret));
    for (const host of [1, 2]) {
      const env = await containerEnv(host, 'demo-web-v1');
      assert.ok(env.includes(`APP_GREETING=${V1_GREETING}`), `host ${host}: ${env.join(' ')}`);
      assert.ok(env.some((line) => line.startsWith('APP_SECRET=')), 'the secret is set (today\'s value)');
      assert.ok((await running(host)).every((name) => name.endsWith('-v1')), `host ${host} runs v1 only`);
    }
    const served = await Promise.all(urls().map((u) => curl(u)));
    assert.deepEqual(served.map((a) => a.body.trim().split(' ')[0]), ['v1', 'v1']);
    // the hosts now run exactly v1's release: v1's config plans nothing, v2's config names the env
    const asReleased = await bed.mrsk(['plan', '--version', 'v1', '--detailed-exitcode']);
    assert.equal(asReleased.code, 0, asReleased.stdout + asReleased.stderr);
    const withV2Config = await bed.mrsk(['plan', '--version', 'v1', '--detailed-exitcode', '-c', v2Config]);
    assert.equal(withV2Config.code, 2, withV2Config.stdout + withV2Config.stderr);
    assert.match(withV2Config.stdout, /APP_GREETING/);
  });
});
