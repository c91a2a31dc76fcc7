// Accessories on the test bed (issue 14), as a user meets them: a Redis next to the app, its data
// in a host directory, through every operation that restarts something around it.
//
// The accessory image is Debian's Redis packed by test/bed/redis-image.sh (<registry>/redis:bed,
// append-only persistence in /data); the app (fixtures/app) reaches it by container name on the
// app network (REDIS_URL=redis://kvdemo-redis:6379) through GET /cgi-bin/kv, which speaks RESP
// with busybox nc. Requests go through Traefik on host 1 (Host: kvdemo.test).
//
// Layout: web on host 1 with the accessory `redis` (host 1, `directories: data:/data`), the job
// role on host 2. The service is `kvdemo`, so no other suite's containers are touched. The file
// restarts Traefik and host 1's dockerd: it takes its bed down at the end (unless
// MRSK_E2E_KEEP_BED=1), so run it on a bed of its own or as part of test/run.sh (one file at a
// time). The scenarios build on each other and run in order (bad input, 6, before removal, 5, so it
// meets a running deployment); 7 puts a second accessory on host 2 with no role there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { bringUp, deployConfig, httpsGet, repoRoot, run, runOk, testbed, waitFor, type Bed, type HttpResult, type ProcessResult } from './harness.ts';

const SERVICE = 'kvdemo';
const ROUTE = `${SERVICE}.test`;
const REDIS = `${SERVICE}-redis`;
/** The app versions this file builds (fixtures/app with /cgi-bin/kv), so a stale cached v1 never stands in. */
const V1 = 'kv1';
const V2 = 'kv2';
const KEYS = 1000;
/** Where the accessory's config file lands in its container (scenario 4). */
const REDIS_CONF = '/usr/local/etc/redis/redis.conf';

let bed: Bed;
let workDir: string;
let configFile: string;
let host1: string;
let host2: string;
let redisImage: string;
/** Set by scenario 1: the others need a running deployment and say so instead of failing obscurely. */
let deployed = false;
/** Per-step timings, printed at the end. */
const timings: string[] = [];

// ---------------------------------------------------------------------------------------- helpers

/** Runs mrsk in the project folder (the root `files:` paths are relative to), with this file's config. */
function mrsk(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string>; input?: string } = {}): Promise<ProcessResult> {
  return bed.mrsk(['-c', configFile, ...args], { timeoutMs: options.timeoutMs ?? 240_000, cwd: workDir, ...options });
}

/**
 * Runs mrsk on a pseudo-terminal (util-linux `script`), answering its question with ANSWER, as a
 * user at a terminal would. stdout is what the terminal showed (stdout and stderr), as one line of words.
 */
async function mrskOnTerminal(args: readonly string[], answer: string): Promise<ProcessResult> {
  const words = [process.execPath, join(repoRoot, 'bin', 'mrsk.js'), '-c', configFile, ...args].map((w) => `'${w.replaceAll("'", `'\\''`)}'`);
  const result = await run('script', ['-qec', words.join(' '), '/dev/null'], {
    cwd: workDir,
    input: `${answer}\n`,
    timeoutMs: 240_000,
    env: { ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1' },
  });
  // one line of words: the terminal's wrapping, carriage returns and cursor moves are not the point
  return { ...result, stdout: result.stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, ' ') };
}

function show(result: ProcessResult): string {
  return `exit ${result.code} after ${result.ms} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function assertOk(result: ProcessResult, what: string): void {
  assert.equal(result.code, 0, `${what}: ${show(result)}`);
  assertNoSecret(result);
}

function assertNoSecret(result: ProcessResult): void {
  const output = result.stdout + result.stderr;
  assert.ok(!output.includes(bed.appSecret), 'the app secret was printed');
  const password = bed.env.MRSK_REGISTRY_PASSWORD ?? '';
  assert.ok(password && !output.includes(password), 'the registry password was printed');
}

/** The accessory as scenario 1 deploys it; later scenarios change a copy. */
function baseAccessory(): Record<string, unknown> {
  return {
    image: redisImage,
    host: host1,
    directories: ['data:/data'],
    env: { clear: { REDIS_MARK: 'first' }, secret: ['APP_SECRET'] },
  };
}

/**
 * This file's config: the e2e config, as service kvdemo, web on host 1, job on host 2 (unless
 * `job` is false: then host 2 is in no role), with ACCESSORIES.
 */
async function writeConfig(accessories: Record<string, unknown>, file = configFile, { job = true } = {}): Promise<void> {
  const config = parse(await readFile(deployConfig, 'utf8')) as Record<string, any>;
  config.service = SERVICE;
  config.servers = {
    web: { hosts: [host1], traefik: { labels: { [`traefik.http.routers.${SERVICE}-web.rule`]: `Host(\`${ROUTE}\`)` } } },
    ...(job ? { job: { hosts: [host2], cmd: config.servers.job.cmd } } : {}),
  };
  config.env.clear.REDIS_URL = `redis://${REDIS}:6379`;
  config.builder.context = join(repoRoot, 'fixtures', 'app');
  config.accessories = accessories;
  await writeFile(file, stringify(config));
}

/** GET /cgi-bin/kv?QUERY through Traefik on host 1. */
function kv(query: string): Promise<HttpResult> {
  return httpsGet(`http://${ROUTE}/cgi-bin/kv?${query}`, { address: host1, timeoutMs: 10_000 });
}

/**
 * How many of the KEYS keys written by scenario 2 are intact, once the app answers again (after
 * a restart it may take a moment: that is waited for, a wrong count is not).
 */
async function intactKeys(what: string): Promise<string> {
  const answer = await waitFor(() => `the app and Redis to answer after ${what}`, 90_000, async () => {
    const a = await kv(`op=check&p=k&n=${KEYS}`);
    return a.status === 200 ? a : undefined;
  });
  return answer.body.trim();
}

async function assertKeysIntact(what: string): Promise<void> {
  const started = Date.now();
  assert.equal(await intactKeys(what), `${KEYS} of ${KEYS}`, `keys lost after ${what}`);
  timings.push(`${what}: ${KEYS} of ${KEYS} keys intact (answered ${((Date.now() - started) / 1000).toFixed(1)}s after)`);
}

/** Runs a command on host I; throws with its output when it fails. */
async function onHost(i: number, command: string): Promise<string> {
  const result = await bed.ssh(i, command, { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `on host ${i}: ${command}\n${show(result)}`);
  return result.stdout.trim();
}

/** The accessory container's id on host 1, '' when there is none. */
async function redisId(): Promise<string> {
  return onHost(1, `docker inspect -f '{{.Id}}' ${REDIS} 2>/dev/null || true`);
}

/** The host directory mounted at /data in the accessory container. */
async function dataDir(): Promise<string> {
  const dir = await onHost(1, `docker inspect -f '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Source}}{{end}}{{end}}' ${REDIS}`);
  assert.ok(dir.startsWith('/'), `${REDIS} has no host directory at /data`);
  return dir;
}

/** What a refused run must not change on host I: containers, images, this service's files. */
async function hostState(i: number): Promise<string> {
  return onHost(
    i,
    `docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.State}}' | sort; echo --; docker images -q --no-trunc | sort; echo --; ls -AlR --time-style=+%s ~/.mrsk/${SERVICE} 2>/dev/null; true`,
  );
}

/** The plan's pending list, from `mrsk plan --json` (one JSON document: the plan). */
function pendingOf(result: ProcessResult): Array<Record<string, unknown>> {
  let plan: Record<string, unknown>;
  try {
    plan = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`plan --json printed no JSON document:\n${result.stdout}`);
  }
  assert.ok(Array.isArray(plan.pending), `the plan has no pending list: ${Object.keys(plan).join(', ')}`);
  return plan.pending as Array<Record<string, unknown>>;
}

/** `mrsk plan`'s text; the plan must succeed. */
async function planText(): Promise<string> {
  const plan = await mrsk(['plan']);
  assertOk(plan, 'plan');
  return plan.stdout;
}

function requireDeployed(): void {
  assert.ok(deployed, 'scenario 1 (setup) did not finish: this scenario needs its deployment');
}

// ---------------------------------------------------------------------------------------- suite

describe('accessories: a Redis next to the app on the test bed', { timeout: 1_800_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    [host1, host2] = bed.hosts as [string, string];
    assert.ok(host1 && host2, `the bed needs 2 hosts, has ${bed.hosts.length}`);
    const image = await runOk('bash', [join(repoRoot, 'test', 'bed', 'redis-image.sh')], { timeoutMs: 300_000 });
    redisImage = image.stdout.trim();
    assert.match(redisImage, /\/redis:bed$/);
    let appMs = 0;
    for (const version of [V1, V2]) appMs += (await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), version], { timeoutMs: 300_000 })).ms;
    timings.push(`redis image ${(image.ms / 1000).toFixed(1)}s (built or found cached), app ${V1} + ${V2} ${(appMs / 1000).toFixed(1)}s`);
    workDir = await mkdtemp(join(tmpdir(), 'mrsk-accessories-e2e-'));
    await mkdir(join(workDir, 'config'));
    configFile = join(workDir, 'config', 'deploy.yml');
    await writeConfig({ redis: baseAccessory() });
    // a clean slate when an earlier run on a kept bed was interrupted
    await mrsk(['accessory', 'remove', 'all', '-y', '--data']);
    await mrsk(['remove', '-y']);
  });
  after(async () => {
    if (timings.length) console.log(`accessories e2e:\n  ${timings.join('\n  ')}`);
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await bed?.tearDown();
  });

  test('1. setup boots redis and the app; the app writes and reads keys through it by container name', async () => {
    const plan = await mrsk(['plan', '--version', V1]);
    assertOk(plan, 'plan before setup');
    assert.match(plan.stdout, /\+\s+accessory\/redis\s+accessory redis missing/, 'the first plan does not create the accessory');

    const setup = await mrsk(['setup', '--skip-push', '--version', V1]);
    assertOk(setup, 'setup');
    timings.push(`setup (redis + app): ${(setup.ms / 1000).toFixed(1)}s`);

    // the container as the design names it: <service>-<accessory>, labelled, on the app network
    const inspect = await onHost(
      1,
      `docker inspect -f '{{.Name}} {{index .Config.Labels "mrsk.service"}} {{index .Config.Labels "mrsk.accessory"}} {{.HostConfig.RestartPolicy.Name}} {{range $n, $_ := .NetworkSettings.Networks}}{{$n}}{{end}} {{.State.Status}}' ${REDIS}`,
    );
    assert.equal(inspect, `/${REDIS} ${SERVICE} redis unless-stopped mrsk running`);
    assert.match(await onHost(1, `docker inspect -f '{{index .Config.Labels "mrsk.spec-hash"}}' ${REDIS}`), /\S/, 'no spec hash label');
    assert.equal(await onHost(2, `docker ps -aq --filter name=${REDIS}`), '', 'redis must run on host 1 only');
    // its secret reached it (compared by hash: the value is in no command line or output)
    const secretHash = createHash('sha256').update(bed.appSecret).digest('hex');
    assert.equal(await onHost(1, `docker exec ${REDIS} sh -c 'printf %s "$APP_SECRET" | sha256sum' | cut -d' ' -f1`), secretHash, 'the accessory did not get its secret');

    const set = await kv('op=set&k=greeting&v=hello-redis');
    assert.equal(set.status, 200, `set: ${set.status} ${set.body}`);
    const get = await kv('op=get&k=greeting');
    assert.deepEqual([get.status, get.body.trim()], [200, 'hello-redis']);
    assert.deepEqual([(await kv('op=incr&k=visits')).body.trim(), (await kv('op=incr&k=visits')).body.trim()], ['1', '2']);
    // the app's write is in the accessory itself, not somewhere else
    assert.equal(await onHost(1, `docker exec ${REDIS} redis-cli GET greeting`), 'hello-redis');

    // nothing left to do: the accessory is part of the converged state, and no app rule (drift's
    // stray or removed-role containers) takes it for one of the app's
    const again = await mrsk(['plan', '--detailed-exitcode']);
    assert.equal(again.code, 0, `plan after setup: ${show(again)}`);
    assert.match(again.stdout, /No changes/);
    const drift = await mrsk(['drift']);
    assertOk(drift, 'drift after setup');
    assert.match(drift.stdout, /No drift: 2 hosts match/);
    deployed = true;
  });

  test(`2. ${KEYS} keys survive deploy v2, rollback, traefik reboot, accessory reboot and a dockerd restart`, async () => {
    requireDeployed();
    const fill = await kv(`op=fill&p=k&n=${KEYS}`);
    assert.deepEqual([fill.status, fill.body.trim()], [200, `${KEYS} written`]);
    await assertKeysIntact('writing them');
    const id = await redisId();

    const deploy = await mrsk(['deploy', '--skip-push', '--version', V2]);
    assertOk(deploy, 'deploy v2');
    assert.doesNotMatch(deploy.stdout, new RegExp(`(stop|start|restart|remove|run) ${REDIS}\\b`), 'deploy touched the accessory');
    assert.equal(await redisId(), id, 'deploy replaced the accessory container');
    assert.match((await httpsGet(`http://${ROUTE}/`, { address: host1 })).body, /^kv2 /);
    await assertKeysIntact('deploy v2');

    assertOk(await mrsk(['rollback', V1]), 'rollback');
    assert.match((await httpsGet(`http://${ROUTE}/`, { address: host1 })).body, /^kv1 /);
    assert.equal(await redisId(), id, 'rollback replaced the accessory container');
    await assertKeysIntact('rollback');

    assertOk(await mrsk(['traefik', 'reboot']), 'traefik reboot');
    assert.equal(await redisId(), id, 'traefik reboot replaced the accessory container');
    await assertKeysIntact('traefik reboot');

    const reboot = await mrsk(['accessory', 'reboot', 'redis', '-y']);
    assertOk(reboot, 'accessory reboot redis');
    const rebooted = await redisId();
    assert.ok(rebooted && rebooted !== id, 'accessory reboot did not replace the container');
    await assertKeysIntact('accessory reboot');

    // dockerd on host 1 stops (it stops its containers) and starts again (testbed.sh up repairs
    // the host as a reboot would); the containers come back by their restart policy
    const pidFile = join(bed.env.MRSK_TESTBED_DIR ?? '', 'h1', 'run', 'docker.pid');
    const pid = (await readFile(pidFile, 'utf8')).trim();
    await runOk('kill', ['-TERM', pid]);
    await waitFor(() => `dockerd ${pid} on host 1 to exit`, 60_000, async () => ((await run('kill', ['-0', pid])).code !== 0 ? true : undefined));
    const up = await testbed(['up', '2'], { timeoutMs: 180_000 });
    assert.equal(up.code, 0, `testbed.sh up 2 after stopping dockerd: ${up.stderr}`);
    await assertKeysIntact('dockerd restart');
    assert.equal(await redisId(), rebooted, 'the accessory came back as the same container (restart policy)');
  });

  test('3. a changed accessory spec is pending in the plan (with the command) and deploy leaves the container alone', async () => {
    requireDeployed();
    const id = await redisId();
    await writeConfig({ redis: { ...baseAccessory(), env: { clear: { REDIS_MARK: 'second' }, secret: ['APP_SECRET'] } } });

    const plan = await mrsk(['plan']);
    assertOk(plan, 'plan');
    assert.match(plan.stdout, /Not changed by this plan:/);
    assert.match(plan.stdout, /mrsk accessory reboot redis/);
    const json = await mrsk(['plan', '--json']);
    assertOk(json, 'plan --json');
    const pending = pendingOf(json);
    assert.equal(pending.length, 1, `pending: ${JSON.stringify(pending)}`);
    assert.match(String(pending[0]?.command), /mrsk accessory reboot redis/);

    const deploy = await mrsk(['deploy', '--skip-push', '--version', V2]);
    assertOk(deploy, 'deploy with a changed accessory');
    assert.equal(await redisId(), id, 'deploy replaced the changed accessory');
    assert.equal(await onHost(1, `docker exec ${REDIS} sh -c 'echo $REDIS_MARK'`), 'first', 'the running accessory must keep its old spec');
    // still pending after the deploy, and the reboot applies it with the data kept
    assert.match((await planText()), /mrsk accessory reboot redis/);
    assertOk(await mrsk(['accessory', 'reboot', 'redis', '-y']), 'accessory reboot redis');
    assert.equal(await onHost(1, `docker exec ${REDIS} sh -c 'echo $REDIS_MARK'`), 'second');
    await assertKeysIntact('the reboot that applied the changed spec');
    const settled = await mrsk(['plan', '--detailed-exitcode']);
    assert.equal(settled.code, 0, `plan after the reboot: ${show(settled)}`);
  });

  test('4. files: a config file uploaded with mode 0640 reaches the container; changing it is a pending change', async () => {
    requireDeployed();
    const conf = (policy: string) => `# the accessories e2e's Redis\ndir /data\nappendonly yes\nprotected-mode no\nmaxmemory-policy ${policy}\n`;
    await writeFile(join(workDir, 'config', 'redis.conf'), conf('allkeys-lru'));
    const withFile = {
      ...baseAccessory(),
      env: { clear: { REDIS_MARK: 'second' }, secret: ['APP_SECRET'] },
      cmd: `redis-server ${REDIS_CONF}`,
      files: [{ local: 'config/redis.conf', remote: REDIS_CONF, mode: '0640' }],
    };
    await writeConfig({ redis: withFile });
    // a new file is a changed spec like any other: pending until the reboot
    assert.match((await planText()), /mrsk accessory reboot redis/);
    assertOk(await mrsk(['accessory', 'reboot', 'redis', '-y']), 'accessory reboot redis with a file');
    assert.equal(await onHost(1, `docker exec ${REDIS} stat -c '%a %U' ${REDIS_CONF}`), '640 root');
    assert.equal(await onHost(1, `docker exec ${REDIS} cat ${REDIS_CONF}`), conf('allkeys-lru').trim());
    assert.equal(await onHost(1, `docker exec ${REDIS} redis-cli CONFIG GET maxmemory-policy | tail -n 1`), 'allkeys-lru');
    await assertKeysIntact('the reboot with the config file');
    assert.equal((await mrsk(['plan', '--detailed-exitcode'])).code, 0, 'plan after the file was uploaded');

    // the file changes: pending, and nothing on the host moves until the user says so
    await writeFile(join(workDir, 'config', 'redis.conf'), conf('volatile-lru'));
    const id = await redisId();
    const plan = await mrsk(['plan']);
    assertOk(plan, 'plan with a changed file');
    assert.match(plan.stdout, /Not changed by this plan:/);
    assert.match(plan.stdout, /mrsk accessory reboot redis/);
    assertOk(await mrsk(['deploy', '--skip-push', '--version', V2]), 'deploy with a changed file');
    assert.equal(await redisId(), id);
    assert.equal(await onHost(1, `docker exec ${REDIS} redis-cli CONFIG GET maxmemory-policy | tail -n 1`), 'allkeys-lru');
    // accessory upload (Kamal's meaning) writes the host copy only: the running container keeps
    // the file it started with, the change stays pending, and the command says what to run next
    const upload = await mrsk(['accessory', 'upload', 'redis']);
    assertOk(upload, 'accessory upload redis');
    assert.match(upload.stdout + upload.stderr, /mrsk accessory reboot redis/, 'upload does not say how the container gets the new file');
    assert.match(await onHost(1, `cat ${join('~/.mrsk', SERVICE, 'accessories/redis/files', REDIS_CONF)}`), /volatile-lru/);
    assert.equal(await redisId(), id, 'upload replaced the container');
    assert.match(await planText(), /mrsk accessory reboot redis/, 'the uploaded file is no longer a pending change');
    assertOk(await mrsk(['accessory', 'reboot', 'redis', '-y']), 'accessory reboot redis with the changed file');
    assert.equal(await onHost(1, `docker exec ${REDIS} redis-cli CONFIG GET maxmemory-policy | tail -n 1`), 'volatile-lru');
    await assertKeysIntact('the reboot with the changed config file');
  });

  test('6. bad input: an accessory on a role no host has, a port Traefik uses, a missing files entry: exit 78 naming the key, nothing changed', async () => {
    const before = [await hostState(1), await hostState(2)];
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a role no host has', { ...baseAccessory(), host: undefined, role: 'cache' }, /cache/],
      ["Traefik's HTTP port", { ...baseAccessory(), port: '80' }, /port 80 is Traefik's HTTP port/],
      ['a missing local file', { ...baseAccessory(), files: ['config/missing.conf:/etc/missing.conf'] }, /config\/missing\.conf is missing/],
    ];
    for (const [what, accessory, message] of cases) {
      const file = join(workDir, 'config', 'deploy.yml');
      await writeConfig({ redis: JSON.parse(JSON.stringify(accessory)) }, file);
      for (const args of [['setup', '--skip-push', '--version', V2], ['accessory', 'boot', 'redis'], ['plan']]) {
        const result = await mrsk(args);
        assert.equal(result.code, 78, `${what}: mrsk ${args.join(' ')}: ${show(result)}`);
        assert.match(result.stderr, message, `${what}: the message`);
        assert.match(result.stderr, /deploy\.yml:\d+:\d+/, `${what}: the message names no file:line:col`);
        assert.match(result.stderr, /accessories/, `${what}: the message names no key`);
      }
    }
    assert.deepEqual([await hostState(1), await hostState(2)], before, 'a refused config changed a host');
  });

  test('5. accessory remove keeps the data unless --data; mrsk remove asks first and says what data would go', async () => {
    requireDeployed();
    await writeConfig({ redis: baseAccessory() });
    const dir = await dataDir();
    // the accessory's folder on the host, as the plan names it (~ is root's home there)
    const accessoryHome = '~/.mrsk/kvdemo/accessories/redis';
    assert.ok(dir.startsWith('/root/.mrsk/kvdemo/accessories/redis/'), `data directory ${dir} is not under ${accessoryHome}`);

    const removed = await mrsk(['accessory', 'remove', 'redis', '-y']);
    assertOk(removed, 'accessory remove redis');
    assert.match(removed.stdout + removed.stderr, /mrsk accessory remove redis --data/, 'accessory remove does not say how the kept data goes');
    assert.equal(await redisId(), '', 'the container is still there');
    assert.match(await onHost(1, `ls ${dir}`), /appendonlydir/, 'accessory remove deleted the data directory');
    // booted again, it finds its data
    assertOk(await mrsk(['accessory', 'boot', 'redis']), 'accessory boot redis');
    await assertKeysIntact('accessory remove (without --data) and boot');

    // remove --data asks, saying the data goes; "no" changes nothing
    const declined = await mrskOnTerminal(['accessory', 'remove', 'redis', '--data'], 'no');
    // the plan line of the deletion names the folders, before the question
    const dataLine = /- accessory\/redis\/data .*with its data \(--data\): ~\/\.mrsk\/kvdemo\/accessories\/redis\b/;
    assert.match(declined.stdout, dataLine, `accessory remove --data does not name the data that would go:\n${declined.stdout}`);
    assert.match(declined.stdout, /DELETE/, `accessory remove --data does not say the data goes:\n${declined.stdout}`);
    assert.match(declined.stdout, /cancelled: nothing was changed/);
    assert.notEqual(await redisId(), '', 'declined, yet the container went');
    assert.match(await onHost(1, `ls ${dir}`), /appendonlydir/, 'declined, yet the data went');
    const withData = await mrsk(['accessory', 'remove', 'redis', '--data', '-y']);
    assertOk(withData, 'accessory remove redis --data');
    assert.equal(await redisId(), '');
    assert.equal(await onHost(1, `test -e ${dir} && echo present || echo gone`), 'gone', 'remove --data left the data directory');
    assert.equal(await onHost(1, `test -e ${accessoryHome} && echo present || echo gone`), 'gone', 'remove --data left the accessory folder');

    // mrsk remove with an accessory: the plan names it and what happens to its data, and it asks
    assertOk(await mrsk(['accessory', 'boot', 'redis']), 'accessory boot redis (fresh)');
    assert.equal((await kv('op=set&k=last&v=words')).status, 200);
    const dirAgain = await dataDir();
    const kept = await mrskOnTerminal(['remove'], 'no');
    assert.match(kept.stdout, /-\s+accessory\/redis\s/, `mrsk remove's plan does not remove the accessory:\n${kept.stdout}`);
    assert.match(kept.stdout, new RegExp(`data of accessory redis kept: ${accessoryHome}`), 'the plan does not say the data stays');
    assert.match(kept.stdout, /Remove kvdemo from these hosts, with the accessories redis \(their data is kept\)\?/);
    assert.match(kept.stdout, /cancelled: nothing was changed/);
    const gone = await mrskOnTerminal(['remove', '--data'], 'no');
    assert.match(gone.stdout, dataLine, `mrsk remove --data does not name the data that would go:\n${gone.stdout}`);
    assert.match(gone.stdout, /with the accessories redis AND THEIR DATA\?/);
    assert.notEqual(await redisId(), '', 'mrsk remove changed something before it was confirmed');
    assert.equal(await onHost(1, `docker exec ${REDIS} redis-cli GET last`), 'words');

    const removedAll = await mrsk(['remove', '-y']);
    assertOk(removedAll, 'mrsk remove -y');
    assert.equal(await redisId(), '');
    assert.equal(await onHost(1, `docker ps -aq --filter label=mrsk.service=${SERVICE}`), '');
    assert.match(await onHost(1, `ls ${dirAgain}`), /appendonlydir/, 'mrsk remove without --data deleted the accessory data');
    assert.equal(await onHost(1, `ls -A ~/.mrsk/${SERVICE}`), 'accessories', 'mrsk remove left more than the accessory data');
  });

  test('7. an accessory on a host in no role (named by address) runs there alone, published on loopback only; setup finds the kept data; remove --data takes everything', async () => {
    requireDeployed();
    const cache = { image: redisImage, host: host2, port: '127.0.0.1:6380:6379', cmd: 'redis-server --protected-mode no' };
    await writeConfig({ redis: baseAccessory(), cache }, configFile, { job: false });
    const setup = await mrsk(['setup', '--skip-push', '--version', V1]);
    assertOk(setup, 'setup with an accessory-only host');
    timings.push(`setup with an accessory-only host: ${(setup.ms / 1000).toFixed(1)}s`);

    // host 2 runs the accessory and nothing else of the app (no app container, no Traefik)
    assert.equal(await onHost(2, "docker ps -a --format '{{.Names}}' | sort"), `${SERVICE}-cache`);
    assert.equal(await onHost(2, `docker port ${SERVICE}-cache`), '6379/tcp -> 127.0.0.1:6380');
    assert.equal(await onHost(2, "printf 'PING\\r\\n' | busybox nc -w 5 127.0.0.1 6380 | tr -d '\\r'"), '+PONG');
    // published on host 2's loopback only: host 1 cannot reach it
    const across = await bed.ssh(1, `printf 'PING\\r\\n' | busybox nc -w 3 ${host2} 6380`, { timeoutMs: 30_000 });
    assert.ok(across.code !== 0 || !across.stdout.includes('PONG'), `host 1 reached the loopback-only port: ${show(across)}`);

    // the redis data that mrsk remove kept (scenario 5) is found again by the new container
    const last = await kv('op=get&k=last');
    assert.deepEqual([last.status, last.body.trim()], [200, 'words'], 'setup did not find the data mrsk remove kept');
    assert.equal((await mrsk(['plan', '--detailed-exitcode'])).code, 0, 'plan after setup with an accessory-only host');

    const removed = await mrsk(['remove', '--data', '-y']);
    assertOk(removed, 'mrsk remove --data -y');
    for (const i of [1, 2]) {
      assert.equal(await onHost(i, `docker ps -aq --filter label=mrsk.service=${SERVICE}`), '', `host ${i} kept a container`);
      assert.equal(await onHost(i, `test -e ~/.mrsk/${SERVICE} && ls -AR ~/.mrsk/${SERVICE} || echo gone`), 'gone', `host ${i} kept files of ${SERVICE}`);
    }
  });
});
