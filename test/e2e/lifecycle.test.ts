// The deploy lifecycle on the test bed (real sshd, dockerd, registry and Traefik), as a user
// runs it: setup, deploy under load, rollback, a broken release, an env change, an interrupted
// deploy, roles, and removal. Every scenario that changes what serves traffic runs under a
// load generator and requires zero failed requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { assertNoFailures, bringUp, curl, deployConfig, load, repoRoot, runOk, underLoad, type Bed } from './harness.ts';

let bed: Bed;
// the config's two hosts (a bed may have more: pebble.test.ts brings up three)
const configHosts = () => bed.hosts.slice(0, 2);
const urls = () => configHosts().map((h) => `http://${h}/`);
// answered after 0.7 s: a drain finds these in flight, and stopping too early fails them
const slowUrls = () => configHosts().map((h) => `http://${h}/cgi-bin/slow`);

async function servedVersions(): Promise<string[]> {
  const answers = await Promise.all(urls().map((u) => curl(u)));
  return answers.map((a) => (a.status === 200 ? a.body.trim().split(' ')[0] ?? '' : `HTTP ${a.status} ${a.error ?? ''}`));
}

function assertOk(result: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

/** Starts `mrsk deploy v4`, sends a signal once the new web container started, returns how it ended. */
async function startDeployAndSignal(signal: NodeJS.Signals): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'mrsk.js'), 'deploy', '--skip-push', '--version', 'v4', '-c', deployConfig], {
    env: { ...process.env, ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (/start demo-web-v4 ok/.test(output) && !child.killed) child.kill(signal);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

describe('deploy lifecycle on the test bed', { timeout: 1_800_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    // v2 is built by `mrsk deploy` itself; v4 and the broken v3 are prebuilt like a CI would.
    await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v4']);
    // a clean slate even when an earlier run was interrupted
    await bed.mrsk(['remove', '-y']);
  });
  after(async () => {
    await bed?.tearDown();
  });

  test('1. setup deploys v1 on fresh hosts, then plan shows no changes', async () => {
    const fresh = await bed.mrsk(['plan', '--version', 'v1']);
    assertOk(fresh, 'plan');
    assert.match(fresh.stdout, /Plan: \d+ to add/);
    const setup = await bed.mrsk(['setup', '--version', 'v1', '--skip-push']);
    assertOk(setup, 'setup');
    assert.deepEqual(await servedVersions(), ['v1', 'v1']);
    const plan = await bed.mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes\. Hosts match the configuration\./);
    assert.ok(!plan.stdout.includes(bed.appSecret) && !setup.stdout.includes(bed.appSecret) && !setup.stderr.includes(bed.appSecret));
  });

  test('2. deploy v1 → v2 (built and pushed by mrsk) under load, slow requests too: zero failed requests', async () => {
    const { result, traffic } = await underLoad([...urls(), ...slowUrls()], () => bed.mrsk(['deploy'], { env: { VERSION: 'v2' } }));
    assertOk(result, 'deploy v2');
    assertNoFailures('deploy v1 → v2', traffic);
    assert.ok(Object.keys(traffic.bodies).some((b) => b.startsWith('v2')), 'v2 never answered during the deploy');
    assert.deepEqual(await servedVersions(), ['v2', 'v2']);
    assert.match(result.stdout, /Deployed demo v2 to 2 host\(s\)/);
  });

  test('3. rollback v2 → v1 under load, slow requests too: zero failures, no pull; and back to v2 with boot.parallel_roles', async () => {
    const { result, traffic } = await underLoad([...urls(), ...slowUrls()], () => bed.mrsk(['rollback', 'v1']));
    assertOk(result, 'rollback v1');
    assertNoFailures('rollback v2 → v1', traffic);
    assert.doesNotMatch(result.stdout, /pull /, 'a rollback to a retained version must not pull');
    assert.deepEqual(await servedVersions(), ['v1', 'v1']);
    // back to v2 with boot.parallel_roles: host 2's job starts while its web is not healthy yet
    const parallel = join(await mkdtemp(join(tmpdir(), 'mrsk-parallel-')), 'deploy.yml');
    await writeFile(parallel, `${await readFile(deployConfig, 'utf8')}\nboot:\n  parallel_roles: true\n`);
    const { result: back, traffic: backTraffic } = await underLoad(urls(), () => bed.mrsk(['-c', parallel, 'rollback', 'v2', '--json']));
    assertOk(back, 'rollback v2 with boot.parallel_roles');
    assertNoFailures('rollback v1 → v2 with boot.parallel_roles', backTraffic);
    assert.deepEqual(await servedVersions(), ['v2', 'v2']);
    const events = back.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { type: string; step?: string });
    const at = (type: string, step: string) => events.findIndex((e) => e.type === type && e.step === step);
    const host2 = configHosts()[1]!;
    const jobStarted = at('step_started', `${host2}:job:start`);
    const webHealthy = at('step_finished', `${host2}:web:wait`);
    assert.ok(jobStarted >= 0 && webHealthy >= 0, `no job start or web wait on ${host2}: ${back.stdout.slice(0, 2000)}`);
    assert.ok(jobStarted < webHealthy, 'with boot.parallel_roles the job starts before web is healthy');
    const job = await bed.ssh(2, "docker ps --filter label=mrsk.role=job --filter label=mrsk.service=demo --format '{{.Names}}'");
    assert.equal(job.stdout.trim(), 'demo-job-v2');
    const unknown = await bed.mrsk(['rollback', 'v0']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /not retained.*Versions retained on every selected host: .*v1.*v2/s);
  });

  test('4. a broken v3 fails saying why (probe, health output, bounded logs); v2 keeps serving; v3 is no rollback target', async () => {
    const { result, traffic } = await underLoad(urls(), () => bed.mrsk(['deploy'], { env: { VERSION: 'v3', APP_BROKEN: '1' } }));
    assert.notEqual(result.code, 0, 'deploying a broken version must fail');
    const report = result.stderr;
    console.log(`broken v3 report (${report.length} bytes, ${report.split('\n').length} lines):\n${report}`);
    // Docker's start period is deploy_timeout, so the health status is still "starting" at the deadline
    assert.match(report, /demo-web-v3 did not become healthy: still (starting|unhealthy) after \d+s/);
    // what was probed, inside the container, and what the probes answered
    assert.match(report, /probed: GET http:\/\/127\.0\.0\.1:3000\/up \(wget, else curl\), up to 2 tries 1s apart, run by Docker inside the container/);
    assert.match(report, /last health checks \(newest last\):\n {4}exit \d+: wget: server returned error: HTTP\/1\.[01] 503/);
    // bounded logs: the last 10 of the app's 15 lines, for the first failed host only
    assert.match(report, /last 10 log lines of demo-web-v3:\n {4}boot check 6 of 15: database unreachable\n/);
    assert.match(report, /boot check 15 of 15/);
    assert.doesNotMatch(report, /boot check 5 of 15/);
    assert.equal(report.match(/boot check \d+ of 15/g)?.length, 10, 'the second host is summarized, without logs');
    assert.match(report, /last health check: exit \d+: wget: server returned error/, 'the second host says its last check');
    // what was verified afterwards
    assert.equal(report.match(/was stopped and renamed demo-web-v3_unhealthy_[0-9a-f]{12}: kept for inspection, never a rollback target\./g)?.length, 2);
    assert.equal(report.match(/The previous version v2 \(demo-web-v2\) keeps serving: running, healthy, routed by Traefik\./g)?.length, 2);
    assert.doesNotMatch(report, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control characters from the host');
    assertNoFailures('broken v3', traffic);
    assert.deepEqual(await servedVersions(), ['v2', 'v2']);
    // the lock was released: a plan can lock-free probe and an apply could run
    const lock = await bed.ssh(1, 'test -d .mrsk/demo/lock && echo held || echo free');
    assert.equal(lock.stdout.trim(), 'free');
    const failed = await bed.ssh(1, "docker ps -a --filter name=demo-web-v3 --format '{{.Names}} {{.State}}'");
    assert.match(failed.stdout.trim(), /^demo-web-v3_unhealthy_[0-9a-f]{12} exited$/);

    // v3 is no rollback target: refused with the reason, and named as such by releases
    const rollback = await bed.mrsk(['rollback', 'v3']);
    assert.equal(rollback.code, 64, rollback.stdout + rollback.stderr);
    assert.match(rollback.stderr, /version v3 is not retained on .*\(it never became healthy on .*web.*so it is no rollback target\)\. Versions retained on every selected host: v1, v2/s);
    const releases = await bed.mrsk(['releases']);
    assert.equal(releases.code, 0, releases.stdout + releases.stderr);
    assert.doesNotMatch(releases.stdout, /-v3 /, 'v3 was never released');
    assert.match(releases.stdout, /never became healthy here, so no rollback target: v3 \(demo-web-v3_unhealthy_[0-9a-f]{12}\)/);
    // a version prefix that names several retained versions is a usage error listing them
    const ambiguous = await bed.mrsk(['rollback', 'v']);
    assert.equal(ambiguous.code, 64, ambiguous.stdout + ambiguous.stderr);
    assert.match(ambiguous.stderr, /version v is ambiguous: it starts 2 retained versions \(v1, v2\); give more characters/);
    // and the failure takes no retained slot: the hosts match the configuration
    const plan = await bed.mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test('5. an env-only change is planned as a replacement with its cause and applied under load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrsk-e2e-'));
    const changed = join(dir, 'deploy.yml');
    const text = await readFile(deployConfig, 'utf8');
    assert.ok(text.includes('APP_GREETING: hello from the test bed'));
    await writeFile(changed, text.replace('APP_GREETING: hello from the test bed', 'APP_GREETING: hello again'));
    const plan = await bed.mrsk(['plan', '-c', changed, '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /APP_GREETING/);
    assert.match(plan.stdout, /\+\/-/);
    // a saved plan applies while the hosts are as planned
    const saved = join(dir, 'env-change.plan');
    assertOk(await bed.mrsk(['plan', '-c', changed, '--out', saved]), 'plan --out');
    assert.ok(!(await readFile(saved, 'utf8')).includes(bed.appSecret), 'a saved plan must not hold secret values');
    const { result, traffic } = await underLoad(urls(), () => bed.mrsk(['apply', saved, '-y', '-c', changed]));
    assertOk(result, 'apply env change');
    assertNoFailures('env-only change', traffic);
    const again = await bed.mrsk(['plan', '-c', changed, '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout);
    // and is refused once the hosts changed since it was made
    const back = join(dir, 'back.plan');
    assertOk(await bed.mrsk(['plan', '--out', back]), 'plan --out back');
    await bed.ssh(2, 'docker stop $(docker ps -q --filter label=mrsk.role=job --filter label=mrsk.service=demo)');
    const stale = await bed.mrsk(['apply', back, '-y']);
    assert.equal(stale.code, 1, stale.stdout + stale.stderr);
    assert.match(stale.stderr, /saved plan .* is stale: the hosts changed since it was made/);
    // back to the fixture's env for the next scenarios
    assertOk(await bed.mrsk(['apply', '-y']), 'apply original env');
  });

  test('6. mrsk interrupted (Ctrl-C) or killed mid-deploy: old version serves, locks are handled, a re-run converges', async () => {
    const { traffic } = await underLoad(urls(), async () => {
      // Ctrl-C: the run stops, says so, releases its lock and records the failure
      const interrupted = await startDeployAndSignal('SIGINT');
      assert.equal(interrupted.code, 130, interrupted.output);
      assert.match(interrupted.output, /interrupted/);
      assert.ok((await servedVersions()).every((v) => v === 'v2' || v === 'v4'), 'a version must keep serving');
      assert.equal((await bed.ssh(1, 'test -d .mrsk/demo/lock && echo held || echo free')).stdout.trim(), 'free');
      assert.match((await bed.ssh(1, 'tail -1 .mrsk/demo/audit.log')).stdout, /deploy v4: FAILED \(interrupted/);
      const resumed = await bed.mrsk(['deploy', '--skip-push', '--version', 'v4']);
      assertOk(resumed, 'deploy v4 after Ctrl-C');
      // back to v2 so that the kill below interrupts a real cutover again
      assertOk(await bed.mrsk(['rollback', 'v2']), 'rollback v2');
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'mrsk.js'), 'deploy', '--skip-push', '--version', 'v4', '-c', deployConfig], {
        env: { ...process.env, ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`deploy never reached the health wait:\n${output}`)), 120_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          // kill it while the new container is starting: the worst moment for a half-done host
          if (/start demo-web-v4 ok/.test(output)) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
      });
      await new Promise((r) => child.on('close', r));
      assert.ok((await servedVersions()).every((v) => v === 'v2' || v === 'v4'), 'a version must keep serving');
      // the killed run's lock: its process on this machine is gone, so the plain re-run takes it over
      const rerun = await bed.mrsk(['deploy', '--skip-push', '--version', 'v4']);
      assertOk(rerun, 'deploy v4 after the kill');
      assert.match(rerun.stderr, /warning: .*took over the deploy lock of .*'s `deploy v4` .*: its process \d+ on this machine is gone/);
      return rerun;
    });
    assertNoFailures('interrupted and killed deploys, re-runs', traffic);
    assert.deepEqual(await servedVersions(), ['v4', 'v4']);
    const plan = await bed.mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout);
  });

  test('7. roles: web behind Traefik, job running its cmd without Traefik labels', async () => {
    const job = await bed.ssh(2, "docker ps --filter label=mrsk.role=job --filter label=mrsk.service=demo --format '{{.Names}}'");
    const name = job.stdout.trim();
    assert.equal(name, 'demo-job-v4');
    const labels = JSON.parse((await bed.ssh(2, `docker inspect -f '{{json .Config.Labels}}' ${name}`)).stdout) as Record<string, string>;
    assert.equal(labels['mrsk.role'], 'job');
    assert.ok(!Object.keys(labels).some((k) => k.startsWith('traefik.')), `job has Traefik labels: ${Object.keys(labels)}`);
    const logs = await bed.ssh(2, `docker logs ${name} 2>&1 | tail -1`);
    assert.match(logs.stdout, /job v4 working/);
    // Every job container stopped so far got docker stop's SIGTERM as PID 1 (the string cmd runs
    // without a shell) and exited 0, instead of being SIGKILLed (137) after the stop timeout.
    const stopped = (await bed.ssh(2, "docker ps -a --filter label=mrsk.role=job --filter label=mrsk.service=demo --filter status=exited --format '{{.Names}}'")).stdout.split('\n').filter(Boolean);
    assert.ok(stopped.length > 0, 'earlier deploys left stopped job containers');
    for (const old of stopped) {
      const exit = (await bed.ssh(2, `docker inspect -f '{{.State.ExitCode}}' ${old}`)).stdout.trim();
      const last = (await bed.ssh(2, `docker logs ${old} 2>&1 | tail -1`)).stdout;
      assert.equal(exit, '0', `${old} exited ${exit}: ${last}`);
      assert.match(last, /got SIGTERM as PID 1 \(args: --queue default\)/, old);
    }
    const web = await bed.ssh(1, "docker ps --filter label=mrsk.role=web --format '{{.Names}}'");
    assert.equal(web.stdout.trim(), 'demo-web-v4');
    const onHost1 = await bed.ssh(1, "docker ps -a --filter label=mrsk.role=job -q | wc -l");
    assert.equal(onHost1.stdout.trim(), '0', 'the job role runs only on its own host');
  });

  test('7b. a Traefik image that cannot be pulled: one line with the traefik.image hint; the old Traefik keeps routing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrsk-e2e-'));
    const changed = join(dir, 'deploy.yml');
    const text = await readFile(deployConfig, 'utf8');
    assert.ok(text.includes('/traefik:v3.6'));
    await writeFile(changed, text.replace('/traefik:v3.6', '/traefik:no-such-tag'));
    const { result, traffic } = await underLoad(urls(), () => bed.mrsk(['apply', '-y', '-c', changed]));
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    console.log(`unpullable Traefik image: ${result.stderr.length} bytes on stderr:\n${result.stderr}`);
    const lines = result.stderr.split('\n').filter((l) => /cannot pull the Traefik image/.test(l));
    assert.equal(lines.length, 2, 'one line per host');
    for (const line of lines) {
      assert.match(line, /cannot pull the Traefik image \S+\/traefik:no-such-tag \(.+\); set traefik\.image in the config to an image this host can pull$/);
      assert.ok(line.length < 400, `a short line, not docker run's argv: ${line.length} characters`);
    }
    assert.doesNotMatch(result.stderr, /docker run/);
    assertNoFailures('unpullable Traefik image', traffic);
    const plan = await bed.mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, `the hosts are as before: ${plan.stdout}`);
  });

  test('7c. a removed cord folder: plan shows it; apply repairs the same container; the next cutover drains it with zero failures', async () => {
    const webId = async () => (await bed.ssh(1, "docker ps -q --no-trunc --filter name=^demo-web-v4$")).stdout.trim();
    const before = await webId();
    assert.match(before, /^[0-9a-f]{64}$/);
    await bed.ssh(1, 'rm -rf .mrsk/demo/cords');
    // the fault's own outage: the healthcheck fails, Traefik stops routing to host 1's container
    const deadline = Date.now() + 30_000;
    while ((await curl(`http://${bed.hosts[0]}/`)).status === 200) {
      assert.ok(Date.now() < deadline, 'host 1 still answered 200 30s after its cord folder was removed');
      await new Promise((r) => setTimeout(r, 250));
    }
    const plan = await bed.mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /container unhealthy/);
    const repaired = await bed.mrsk(['apply', '-y']);
    assertOk(repaired, 'apply after the cord folder was removed');
    assert.deepEqual(await servedVersions(), ['v4', 'v4']);
    // the container cannot see the folder made again until it restarts; it was not routed, so it is restarted, not replaced
    assert.equal(await webId(), before, 'the container was replaced');
    // the repaired container is drained from inside its (removed) folder: zero failed requests
    const { result, traffic } = await underLoad(urls(), () => bed.mrsk(['rollback', 'v2']));
    assertOk(result, 'rollback v2 after the repair');
    assertNoFailures('cutover after a cord repair', traffic);
    assert.deepEqual(await servedVersions(), ['v2', 'v2']);
  });

  test('8. remove leaves the hosts clean', async () => {
    const removed = await bed.mrsk(['remove', '-y']);
    assertOk(removed, 'remove');
    for (const index of [1, 2]) {
      const left = await bed.ssh(index, "docker ps -a --format '{{.Names}}'; docker network ls --format '{{.Name}}' | grep -x mrsk; ls .mrsk/demo 2>/dev/null");
      assert.equal(left.stdout.trim(), '', `host ${index} still has: ${left.stdout}`);
    }
  });
});
