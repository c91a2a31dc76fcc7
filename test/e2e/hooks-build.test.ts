// Hooks and the clean-clone build on the test bed, as a user meets them. The project is a git
// repository with the example app at its root, no builder.context, uncommitted and untracked
// files, and Kamal's .kamal/hooks. A failing pre-deploy hook stops the deploy after the push and
// before any container changes (exit 1, naming the hook and what it said, lock released); with
// the hook passing, the hooks run in Kamal's order with Kamal's variables, the image holds the
// commit at HEAD only, and the deploy output says for which platform and from what it built.
//
// Own service (`hooksdemo`, routed only for Host(`hooksdemo.test`)), so no other suite's app is touched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { bringUp, deployConfig, repoRoot, run, runOk, type Bed, type ProcessResult } from './harness.ts';

const SERVICE = 'hooksdemo';
let bed: Bed;
let project: string;
let configFile: string;
let hookLog: string;

function mrsk(args: readonly string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return bed.mrsk(['-c', configFile, ...args], { timeoutMs: 300_000, env, cwd: project });
}

function show(result: ProcessResult): string {
  return `exit ${result.code} after ${result.ms} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** GET http://<host 1>/<path> with the service's Host header: [status, body]. */
async function get(path: string): Promise<[number, string]> {
  const result = await run('curl', ['-s', '--max-time', '5', '-H', `Host: ${SERVICE}.test`, '-w', '\n%{http_code}', `http://${bed.hosts[0]}${path}`]);
  const lines = result.stdout.split('\n');
  return [Number(lines.pop()), lines.join('\n').trim()];
}

async function containersOf(hostIndex: number): Promise<string> {
  const result = await bed.ssh(hostIndex, `docker ps -a --filter label=mrsk.service=${SERVICE} --format '{{.Names}} {{.State}}'; ls -d ~/.mrsk/${SERVICE}/lock 2>/dev/null; true`, { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

const git = (...args: string[]) => runOk('git', ['-c', 'user.email=e2e@example.com', '-c', 'user.name=e2e', ...args], { cwd: project });

describe('hooks and the clean-clone build', { timeout: 900_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    project = await mkdtemp(join(tmpdir(), 'mrsk-hooks-e2e-'));
    await cp(join(repoRoot, 'fixtures', 'app'), project, { recursive: true });
    await writeFile(join(project, 'www', 'asset.txt'), 'committed\n');
    await mkdir(join(project, 'config'));
    const config = parse(await readFile(deployConfig, 'utf8')) as Record<string, any>;
    config.service = SERVICE;
    config.servers = { web: { hosts: config.servers.web, traefik: { labels: { [`traefik.http.routers.${SERVICE}-web.rule`]: `Host(\`${SERVICE}.test\`)` } } } };
    delete config.builder.context; // Kamal's rule: a clean clone of HEAD
    configFile = join(project, 'config', 'deploy.yml');
    await writeFile(configFile, stringify(config));
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-qm', 'the app');
    // what must never reach the image: a change to a tracked file and an untracked file
    await writeFile(join(project, 'www', 'asset.txt'), 'uncommitted\n');
    await writeFile(join(project, 'www', 'untracked.txt'), 'untracked\n');
    hookLog = join(project, 'hooks.log');
    await mkdir(join(project, '.kamal', 'hooks'), { recursive: true });
    for (const name of ['pre-connect', 'pre-build', 'pre-deploy', 'post-deploy']) {
      const gate = name === 'pre-deploy' ? 'if [ -f "$PWD/block" ]; then echo "CI is red for $KAMAL_SERVICE_VERSION" >&2; exit 3; fi\n' : '';
      await writeFile(
        join(project, '.kamal', 'hooks', name),
        `#!/bin/sh\n${gate}echo "${name} cmd=$KAMAL_COMMAND hosts=$KAMAL_HOSTS sv=$MRSK_SERVICE_VERSION runtime=\${KAMAL_RUNTIME:-none}" >> "${hookLog}"\n`,
        { mode: 0o755 },
      );
    }
  });
  after(async () => {
    if (bed && configFile) await bed.mrsk(['remove', '-y', '-c', configFile], { timeoutMs: 300_000, cwd: project });
    if (project) await rm(project, { recursive: true, force: true });
    await bed?.tearDown();
  });

  test('a failing pre-deploy hook stops the deploy before any container changes: exit 1, the hook and its words named, the lock released', async () => {
    await writeFile(join(project, 'block'), '');
    const result = await mrsk(['deploy']);
    console.log(`time: deploy stopped by pre-deploy in ${result.ms} ms`);
    assert.equal(result.code, 1, show(result));
    assert.match(result.stderr, /the pre-deploy hook \(\.kamal\/hooks\/pre-deploy\) failed \(exit 3\), so no host was changed\. It said:\n {2}CI is red for hooksdemo@[0-9a-f]{40}_uncommitted_[0-9a-f]{16}/, show(result));
    const log = (await readFile(hookLog, 'utf8')).trim().split('\n').map((line) => line.split(' ')[0]);
    assert.deepEqual(log, ['pre-connect', 'pre-build'], 'pre-deploy stopped before it logged; no post-deploy');
    for (const index of [1, 2]) assert.equal(await containersOf(index), '', `host ${index}: no container of ${SERVICE} and no lock left`);
    await rm(join(project, 'block'));
    await rm(hookLog);
  });

  test('with the hooks passing: Kamal\'s order and variables, the image holds HEAD only, built for the hosts\' architecture', async () => {
    const result = await mrsk(['deploy']);
    console.log(`time: deploy with hooks in ${result.ms} ms`);
    assert.equal(result.code, 0, show(result));
    const output = result.stdout + result.stderr;
    assert.match(output, /Uncommitted changes and untracked files are not in the image: it is built from a clean clone of HEAD [0-9a-f]{12}/, show(result));
    assert.match(output, /Building \S+ for amd64 \(the architecture all 2 hosts report\), on this machine, from a clean clone of HEAD [0-9a-f]{12}/, show(result));
    assert.ok(!output.includes(bed.appSecret), 'the app secret was printed');
    const log = (await readFile(hookLog, 'utf8')).trim().split('\n');
    assert.deepEqual(log.map((line) => line.split(' ')[0]), ['pre-connect', 'pre-build', 'pre-deploy', 'post-deploy']);
    const hosts = bed.hosts.join(',');
    for (const line of log) assert.match(line, new RegExp(`cmd=deploy hosts=${hosts.replaceAll('.', '\\.')} sv=hooksdemo@[0-9a-f]{40}_uncommitted_[0-9a-f]{16} `));
    assert.match(log[3]!, /runtime=\d+$/);
    assert.match(log[0]!, /runtime=none$/);
    // the image: the committed file, not the uncommitted change, and no untracked file
    const deadline = Date.now() + 60_000;
    let asset: [number, string] = [0, ''];
    while (Date.now() < deadline) {
      asset = await get('/asset.txt');
      if (asset[0] === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.deepEqual(asset, [200, 'committed']);
    assert.equal((await get('/untracked.txt'))[0], 404);
  });

  test('--skip-hooks runs none of them, so the blocking pre-deploy does not stop the deploy', async () => {
    await rm(hookLog, { force: true });
    await writeFile(join(project, 'block'), '');
    const result = await mrsk(['deploy', '--skip-hooks']);
    assert.equal(result.code, 0, show(result));
    assert.equal(existsSync(hookLog), false, 'no hook ran');
    await rm(join(project, 'block'));
  });
});
