// Drift detection and correction on the test bed (real sshd, dockerd, registry and Traefik), as a
// cron job would meet it: a container stopped by hand, Traefik stopped or removed, a stray
// container with this service's labels, a container recreated by hand with another label, an
// unreachable host, and a deploy lock held by someone else. It deploys its own service
// (`driftdemo`, routed only under /mrsk-drift-e2e) from a config copied to /tmp, so the demo
// service other suites deploy on the same bed is never touched — except Traefik, which is one
// per host by design: the Traefik case stops it for a few seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bringUp, deployConfig, repoRoot, runOk, type Bed, type ProcessResult } from './harness.ts';

const SERVICE = 'driftdemo';
const WEB = `${SERVICE}-web-v1`;
let bed: Bed;
let dir: string;
let config: string;

function show(result: ProcessResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** docker inspect of a container on host I, or undefined when it does not exist. */
async function inspect(hostIndex: number, name: string): Promise<{ Id: string; State: { Status: string }; Config: { Labels: Record<string, string>; Image: string } } | undefined> {
  const result = await bed.ssh(hostIndex, `docker inspect ${quote(name)}`);
  if (result.code !== 0) return undefined;
  return (JSON.parse(result.stdout) as never[])[0];
}

async function sshOk(hostIndex: number, command: string): Promise<string> {
  const result = await bed.ssh(hostIndex, command);
  assert.equal(result.code, 0, `ssh h${hostIndex} ${command}: ${show(result)}`);
  return result.stdout;
}

/** `mrsk drift` with the test's config and --json; returns the exit code and the parsed report. */
async function driftJson(extra: readonly string[] = []): Promise<{ result: ProcessResult; report: { hosts: { host: string; status: string; findings?: { kind: string; fixable: boolean; container?: string }[] }[] } & Record<string, unknown> }> {
  const result = await bed.mrsk(['drift', '--json', ...extra, '-c', config]);
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    assert.fail(`drift --json did not print JSON: ${show(result)}`);
  }
  return { result, report };
}

function kindsOf(report: { hosts: { host: string; findings?: { kind: string }[] }[] }): string[] {
  return report.hosts.flatMap((h) => (h.findings ?? []).map((f) => `${h.host} ${f.kind}`));
}

async function assertNoDrift(): Promise<void> {
  const clean = await bed.mrsk(['drift', '-c', config]);
  assert.equal(clean.code, 0, show(clean));
  assert.match(clean.stdout, /No drift: 2 hosts match their recorded release\./);
}

describe('drift detection and correction on the test bed', { timeout: 900_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    dir = await mkdtemp(join(tmpdir(), 'mrsk-drift-e2e-'));
    config = join(dir, 'deploy.yml');
    const text = await readFile(deployConfig, 'utf8');
    // Own service, web on both hosts only, routed under its own path so it never takes the demo's traffic.
    const servers = /servers:\n[\s\S]*?\n\nregistry:/;
    assert.match(text, servers);
    const own = text
      .replace(/^service: demo$/m, `service: ${SERVICE}`)
      .replace(
        servers,
        [
          'servers:',
          '  web:',
          '    hosts:',
          ...bed.hosts.map((h) => `      - ${h}`),
          '    traefik:',
          '      labels:',
          `        traefik.http.routers.${SERVICE}-web.rule: "PathPrefix(\`/mrsk-drift-e2e\`)"`,
          '',
          'registry:',
        ].join('\n'),
      );
    await writeFile(config, own);
    // a clean slate even when an earlier run was interrupted
    for (let i = 1; i <= bed.hosts.length; i++) await bed.ssh(i, `rm -rf .mrsk/${SERVICE}/lock; docker rm -f ${SERVICE}-stray driftother-foreign >/dev/null 2>&1; true`);
    await bed.mrsk(['remove', '-y', '-c', config]);
    const deploy = await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', config]);
    assert.equal(deploy.code, 0, show(deploy));
  });
  after(async () => {
    if (bed && config) await bed.mrsk(['remove', '-y', '-c', config]);
    if (dir) await rm(dir, { recursive: true, force: true });
    await bed?.tearDown();
  });

  test('right after a deploy there is no drift, and the ledger lists the release on each host', async () => {
    await assertNoDrift();
    const releases = await bed.mrsk(['releases', '-c', config]);
    assert.equal(releases.code, 0, show(releases));
    for (const host of bed.hosts) assert.match(releases.stdout, new RegExp(`${host.replaceAll('.', '\\.')}\\n\\s+ID\\s+VERSION\\s+APPLIED AT\\s+BY\\n\\s+\\*\\s+\\S+-v1\\s+v1\\s`));
  });

  test('a container stopped by hand: drift reports it (exit 2), --fix starts it again, the next run exits 0', async () => {
    await sshOk(1, `docker stop -t 1 ${WEB}`);
    const { result, report } = await driftJson();
    assert.equal(result.code, 2, show(result));
    assert.deepEqual(kindsOf(report), [`${bed.hosts[0]} container-stopped`]);
    const text = await bed.mrsk(['drift', '-c', config]);
    assert.equal(text.code, 2);
    assert.match(text.stdout, /web: container exited \(\d+\) \(container-stopped\) \[fixable\]/);
    const fixed = await bed.mrsk(['drift', '--fix', '-c', config]);
    assert.equal(fixed.code, 0, show(fixed));
    assert.equal((await inspect(1, WEB))?.State.Status, 'running');
    await assertNoDrift();
    assert.ok(!`${fixed.stdout}${fixed.stderr}${text.stdout}`.includes(bed.appSecret), 'the secret never shows');
  });

  test('Traefik stopped, then removed: each time re-created or restarted by --fix', async () => {
    await sshOk(2, 'docker stop -t 1 traefik');
    const stopped = await driftJson();
    assert.equal(stopped.result.code, 2, show(stopped.result));
    assert.deepEqual(kindsOf(stopped.report), [`${bed.hosts[1]} traefik-stopped`]);
    const first = await bed.mrsk(['drift', '--fix', '-c', config]);
    assert.equal(first.code, 0, show(first));
    assert.equal((await inspect(2, 'traefik'))?.State.Status, 'running');

    await sshOk(2, 'docker rm -f traefik');
    const missing = await driftJson();
    assert.deepEqual(kindsOf(missing.report), [`${bed.hosts[1]} traefik-missing`]);
    const second = await bed.mrsk(['drift', '--fix', '-c', config]);
    assert.equal(second.code, 0, show(second));
    const traefik = await inspect(2, 'traefik');
    assert.equal(traefik?.State.Status, 'running');
    assert.equal(traefik?.Config.Labels['mrsk.traefik'], 'true');
    await assertNoDrift();
  });

  test('a stray container with this service labels is removed; one of another service is left alone', async () => {
    const image = (await inspect(1, WEB))!.Config.Image;
    await sshOk(1, `docker run -d --name ${SERVICE}-stray --label mrsk.service=${SERVICE} --label mrsk.role=web ${quote(image)}`);
    await sshOk(1, `docker run -d --name driftother-foreign --label mrsk.service=driftother --label mrsk.role=web ${quote(image)}`);
    try {
      const { result, report } = await driftJson();
      assert.equal(result.code, 2, show(result));
      assert.deepEqual(kindsOf(report), [`${bed.hosts[0]} stray-container`]);
      const fixed = await bed.mrsk(['drift', '--fix', '-c', config]);
      assert.equal(fixed.code, 0, show(fixed));
      assert.equal(await inspect(1, `${SERVICE}-stray`), undefined, 'the stray container is gone');
      assert.equal((await inspect(1, 'driftother-foreign'))?.State.Status, 'running', 'the other service is untouched');
      await assertNoDrift();
    } finally {
      await bed.ssh(1, `docker rm -f ${SERVICE}-stray driftother-foreign`);
    }
  });

  test('a container recreated by hand with another label is replaced by the recorded spec', async () => {
    const before = (await inspect(1, WEB))!;
    const labels = Object.entries(before.Config.Labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const argv = ['docker', 'run', '-d', '--name', WEB, '--network', 'mrsk', ...labels, '--label', 'edited=by-hand', before.Config.Image];
    await sshOk(1, `docker rm -f ${WEB} >/dev/null && ${argv.map(quote).join(' ')}`);
    const { result, report } = await driftJson();
    assert.equal(result.code, 2, show(result));
    assert.deepEqual(kindsOf(report), [`${bed.hosts[0]} spec-differs`]);
    const fixed = await bed.mrsk(['drift', '--fix', '-c', config]);
    assert.equal(fixed.code, 0, show(fixed));
    const after = (await inspect(1, WEB))!;
    assert.equal(after.State.Status, 'running');
    assert.equal(after.Config.Labels.edited, undefined, 'the hand-made label is gone');
    assert.notEqual(after.Id, before.Id);
    await assertNoDrift();
  });

  test('a host unreachable: reported, the others still fixed, exit 1', async () => {
    const withDead = join(dir, 'with-dead-host.yml');
    const dead = '10.231.7.99'; // on the bed's own network, where no host answers
    await writeFile(withDead, (await readFile(config, 'utf8')).replace(`      - ${bed.hosts[1]}\n`, `      - ${bed.hosts[1]}\n      - ${dead}\n`));
    await sshOk(1, `docker stop -t 1 ${WEB}`);
    const fixed = await bed.mrsk(['drift', '--fix', '-c', withDead], { timeoutMs: 120_000 });
    assert.equal(fixed.code, 1, show(fixed));
    assert.match(fixed.stdout, new RegExp(`${dead.replaceAll('.', '\\.')} {2}NOT CHECKED`));
    assert.equal((await inspect(1, WEB))?.State.Status, 'running', 'the reachable host was fixed');
    await assertNoDrift();
  });

  test('a deploy lock held by someone else: --fix is skipped (exit 0, or 75 with --fail-if-locked) and changes nothing', async () => {
    const now = Date.now();
    const holder = {
      id: 'e2e-someone-else',
      holder: 'alice@elsewhere',
      command: 'deploy v9',
      acquiredAt: new Date(now).toISOString(),
      leaseExpiresAt: new Date(now + 600_000).toISOString(),
      pid: 1,
    };
    await sshOk(1, `docker stop -t 1 ${WEB}`);
    await sshOk(1, `mkdir -p .mrsk/${SERVICE}/lock && printf '%s' ${quote(JSON.stringify(holder))} > .mrsk/${SERVICE}/lock/holder.json`);
    try {
      const skipped = await bed.mrsk(['drift', '--fix', '-c', config]);
      assert.equal(skipped.code, 0, show(skipped));
      assert.match(skipped.stdout, /skipped: the deploy lock on .* is held by alice@elsewhere .* `deploy v9`/);
      const check = await bed.mrsk(['drift', '-c', config]);
      assert.equal(check.code, 0, show(check));
      assert.match(check.stdout, /^Drift skipped: the deploy lock/m, 'a report during a deploy would be a false alarm');
      const strict = await bed.mrsk(['drift', '--fix', '--fail-if-locked', '-c', config]);
      assert.equal(strict.code, 75, show(strict));
      assert.equal((await inspect(1, WEB))?.State.Status, 'exited', 'nothing was changed under a held lock');
    } finally {
      await bed.ssh(1, `rm -rf .mrsk/${SERVICE}/lock`);
    }
    const fixed = await bed.mrsk(['drift', '--fix', '-c', config]);
    assert.equal(fixed.code, 0, show(fixed));
    await assertNoDrift();
  });

  test('mrsk rollback <release id> goes back to the version of that release; drift then compares with it', async () => {
    const ledger = async (): Promise<{ host: string; currentId: string | null; releases: { id: string; version: string }[] }[]> => {
      const result = await bed.mrsk(['releases', '--json', '-c', config]);
      assert.equal(result.code, 0, show(result));
      return (JSON.parse(result.stdout) as { hosts: never[] }).hosts;
    };
    const v1Release = (await ledger())[0]!.releases.find((r) => r.version === 'v1')!;
    await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v2'], { timeoutMs: 180_000 });
    const deploy = await bed.mrsk(['deploy', '--version', 'v2', '--skip-push', '-c', config]);
    assert.equal(deploy.code, 0, show(deploy));
    const afterDeploy = await ledger();
    assert.deepEqual(afterDeploy.map((h) => h.releases[0]?.version), ['v2', 'v2'], 'newest first');
    assert.deepEqual(afterDeploy.map((h) => h.currentId), afterDeploy.map((h) => h.releases[0]?.id));

    const rollback = await bed.mrsk(['rollback', v1Release.id, '-c', config]);
    assert.equal(rollback.code, 0, show(rollback));
    assert.match(rollback.stdout, new RegExp(`Release ${v1Release.id}: version v1`));
    assert.doesNotMatch(rollback.stdout, /pull /, 'the retained v1 container is started again');
    assert.equal((await inspect(1, WEB))?.State.Status, 'running');
    assert.equal((await inspect(1, `${SERVICE}-web-v2`))?.State.Status, 'exited');
    assert.deepEqual((await ledger()).map((h) => h.releases[0]?.version), ['v1', 'v1']);
    await assertNoDrift();
    const unknown = await bed.mrsk(['rollback', '20000101T000000-v0', '-c', config]);
    assert.equal(unknown.code, 64, show(unknown));
    assert.match(unknown.stderr, /release 20000101T000000-v0 is in no ledger of the selected hosts/);
  });
});
