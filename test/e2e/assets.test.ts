// asset_path on the test bed (fixtures/e2e/assets.yml): the app's image holds one fingerprinted
// asset per version (/www/assets/app-<VERSION>.css). A deploy v1 → v2 under load must keep
// /assets/app-v1.css answering 200 the whole time (also once v2 is routed: v2 got v1's file),
// /assets/app-v2.css must never 404 again on a host once it answered there (v1 got v2's file
// before v2 started), and afterwards both answer 200 from every container; a plain plan is then
// empty and the v1 folder on each host holds both versions' files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bringUp, curl, load, waitFor, repoRoot, type Bed, type HttpResult } from './harness.ts';

const config = join(repoRoot, 'fixtures', 'e2e', 'assets.yml');
let bed: Bed;
const mrsk = (args: readonly string[], env: Record<string, string> = {}) => bed.mrsk([...args, '-c', config], { env, timeoutMs: 600_000 });

function assertOk(result: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

async function sshOk(host: number, command: string): Promise<string> {
  const result = await bed.ssh(host, command, { timeoutMs: 120_000 });
  assert.equal(result.code, 0, `on host ${host}: ${command}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}


/** The running app containers of the service on host i. */
async function appContainers(host: number): Promise<string[]> {
  const out = await sshOk(host, `docker ps --filter label=mrsk.service=assets --format '{{.Names}}'`);
  return out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

/** GET of an asset from inside a container (each container, not whichever Traefik picks). */
async function fromContainer(host: number, container: string, path: string): Promise<string> {
  const result = await bed.ssh(host, `docker exec ${container} wget -q -O - http://127.0.0.1:3000${path}`, { timeoutMs: 60_000 });
  return result.code === 0 ? result.stdout.trim() : `exit ${result.code}: ${result.stderr.trim()}`;
}

describe('asset_path: both versions\' assets answer during and after a rollout', { timeout: 1_200_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    // a clean slate even when an earlier run was interrupted
    await mrsk(['remove', '-y']);
    for (const host of [1, 2]) await sshOk(host, 'rm -rf /root/.mrsk/assets/assets');
  });
  after(async () => {
    await bed?.tearDown();
  });

  test('1. deploy v1: its asset answers, v2\'s does not exist yet; the folder is mounted over /www/assets', async () => {
    const deploy = await mrsk(['deploy'], { VERSION: 'v1' });
    assertOk(deploy, 'deploy v1');
    for (const [index, host] of bed.hosts.entries()) {
      assert.equal((await curl(`http://${host}/assets/app-v1.css`)).status, 200);
      assert.equal((await curl(`http://${host}/assets/app-v2.css`)).status, 404);
      const files = await sshOk(index + 1, 'ls /root/.mrsk/assets/assets/web/v1');
      assert.deepEqual(files.trim().split('\n'), ['app-v1.css']);
    }
  });

  test('2. deploy v1 → v2 under load: app-v1.css never fails, app-v2.css never 404s again once it answered; afterwards both from every container', async () => {
    const v1Urls = bed.hosts.map((h) => `http://${h}/assets/app-v1.css`);
    const controller = new AbortController();
    const traffic = load({ urls: [...v1Urls, ...bed.hosts.map((h) => `http://${h}/`)], rps: 20, durationMs: 600_000, signal: controller.signal });
    // app-v2.css polled per host: after its first 200, any other answer is a bridging failure.
    const v2Polls: Record<string, HttpResult[]> = {};
    const polling = (async () => {
      while (!controller.signal.aborted) {
        for (const host of bed.hosts) (v2Polls[host] ??= []).push(await curl(`http://${host}/assets/app-v2.css`));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let deploy;
    try {
      deploy = await mrsk(['deploy'], { VERSION: 'v2' });
    } finally {
      // a few more seconds of traffic after the cutover, then stop
      await new Promise((r) => setTimeout(r, 2000));
      controller.abort();
    }
    const result = await traffic;
    await polling;
    assertOk(deploy, 'deploy v2');
    const v1Requests = result.sent;
    console.log(`load: ${v1Requests} requests (app-v1.css and /), ${result.failed} failed; bodies ${JSON.stringify(result.bodies)}`);
    assert.equal(result.failed, 0, `failed requests during the deploy: ${JSON.stringify(result.failures.slice(0, 10))}`);
    assert.ok(Object.keys(result.bodies).some((b) => b.startsWith('v2 ')), 'v2 never answered / during the deploy');
    assert.ok(Object.keys(result.bodies).some((b) => b.includes('app v1')), 'app-v1.css never answered');
    for (const [host, polls] of Object.entries(v2Polls)) {
      const first = polls.findIndex((p) => p.status === 200);
      assert.ok(first >= 0, `${host}: app-v2.css never answered during the deploy`);
      const later = polls.slice(first).filter((p) => p.status !== 200);
      const notFound = polls.filter((p) => p.status === 404).length;
      console.log(`${host}: app-v2.css polled ${polls.length} times, 404 before it was prepared: ${notFound}, failures after the first 200: ${later.length}`);
      assert.deepEqual(later.map((p) => p.status), [], `${host}: app-v2.css failed after it first answered`);
    }
    for (const [index, host] of bed.hosts.entries()) {
      for (const name of ['app-v1.css', 'app-v2.css']) assert.equal((await curl(`http://${host}/assets/${name}`)).status, 200, `${host} /assets/${name}`);
      const containers = await appContainers(index + 1);
      assert.deepEqual(containers, ['assets-web-v2']);
      for (const container of containers) {
        assert.equal(await fromContainer(index + 1, container, '/assets/app-v1.css'), '/* app v1 */');
        assert.equal(await fromContainer(index + 1, container, '/assets/app-v2.css'), '/* app v2 */');
      }
      // the retained v1 folder got v2's file too (a rollback to v1 serves both)
      const v1Files = await sshOk(index + 1, 'ls /root/.mrsk/assets/assets/web/v1');
      assert.deepEqual(v1Files.trim().split('\n').sort(), ['app-v1.css', 'app-v2.css']);
    }
    const plan = await mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test('3. rollback to v1: the retained v1 container serves both versions\' assets', async () => {
    const rollback = await mrsk(['rollback', 'v1']);
    assertOk(rollback, 'rollback v1');
    for (const [index, host] of bed.hosts.entries()) {
      await waitFor(() => `${host} serving v1`, 60_000, async () => ((await curl(`http://${host}/`)).body.startsWith('v1 ') ? true : undefined));
      for (const name of ['app-v1.css', 'app-v2.css']) assert.equal((await curl(`http://${host}/assets/${name}`)).status, 200, `${host} /assets/${name}`);
      assert.equal(await fromContainer(index + 1, 'assets-web-v1', '/assets/app-v2.css'), '/* app v2 */');
    }
  });
});
