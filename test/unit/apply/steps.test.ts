// Steps against a scripted host: each docker command the step sends is answered from a script,
// so the paths that are hard to provoke on a real host (a connection lost mid-wait, a stop that
// fails, an image that cannot be pulled) are pinned here. The e2e suite runs them for real.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheckError } from '../../../src/apply/health-report.ts';
import { runStep, type StepContext } from '../../../src/apply/steps.ts';
import { executePlan, type ExecutorEvent } from '../../../src/apply/executor.ts';
import * as docker from '../../../src/runtime/index.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { prepareAssetsScript, removeAssetsScript } from '../../../src/host/assets.ts';
import { DATABASE_URL_VALUE, makeConfig } from '../helpers/config.ts';
import { DeployError, describeError, HostError, RemoteCommandError, StalePlanError } from '../../../src/errors.ts';
import type { Plan, PlanStep, StepAction } from '../../../src/plan/types.ts';
import type { ExecResult, Runner } from '../../../src/ssh/types.ts';
import { fail, ok, ScriptedRunner } from '../../helpers/scripted-runner.ts';
import type { TraefikSpec } from '../../../src/desired/types.ts';
import { toShell } from '../../../src/shell/quote.ts';

const HOST = 'h1';
const NEW_ID = 'a'.repeat(12) + '0'.repeat(52);
const OLD_ID = 'b'.repeat(12) + '0'.repeat(52);
const CHECK = "test -f /run/mrsk/cord/ok && (wget -q -O /dev/null 'http://127.0.0.1:3000/up' || curl -fsS -o /dev/null 'http://127.0.0.1:3000/up')";

/** The words of a command line without quoting (every test line here is plain words). */
const words = (line: string): string[] => line.split(' ');
const inspect = (nameOrId: string) => words(`docker inspect --type container ${nameOrId}`);
const TRAEFIK_API = ['docker', 'exec', 'traefik', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/api/http/services/app-web@docker'];

const labels = (version: string): Record<string, string> => ({
  'mrsk.service': 'app',
  'mrsk.role': 'web',
  'mrsk.version': version,
  'traefik.enable': 'true',
  'traefik.docker.network': 'mrsk',
  'traefik.http.services.app-web.loadbalancer.server.port': '3000',
});

function inspectJson(o: { id: string; name: string; version: string; running: boolean; health?: string; log?: { ExitCode: number; Output: string }[]; ip: string }): ExecResult {
  return ok(
    JSON.stringify([
      {
        Id: o.id,
        Name: `/${o.name}`,
        State: { Status: o.running ? 'running' : 'exited', Running: o.running, ExitCode: o.running ? 0 : 137, ...(o.health ? { Health: { Status: o.health, Log: o.log ?? [] } } : {}) },
        Config: { Labels: labels(o.version), Healthcheck: o.health ? { Test: ['CMD-SHELL', CHECK] } : null },
        NetworkSettings: { Networks: { mrsk: { IPAddress: o.ip } } },
        Mounts: [],
      },
    ]),
  );
}

const UNHEALTHY_LOG = [1, 2, 3, 4].map((n) => ({ ExitCode: 1, Output: `wget: server returned error: HTTP/1.1 500 Internal Server Error\n` + (n === 4 ? '\x1b[31m' : '') }));
const newContainer = (health: string, running = true) => inspectJson({ id: NEW_ID, name: 'app-web-v3', version: 'v3', running, health, log: UNHEALTHY_LOG, ip: '172.18.0.3' });
const oldContainer = inspectJson({ id: OLD_ID, name: 'app-web-v2', version: 'v2', running: true, health: 'healthy', ip: '172.18.0.2' });

/** The host around the new container: the old version serving and routed; logs; stop and rename work. */
function serving(runner: ScriptedRunner): ScriptedRunner {
  return runner
    .onArgv(inspect(OLD_ID), oldContainer)
    .onArgv(words('docker ps --no-trunc --filter label=mrsk.service=app --filter label=mrsk.role=web --filter status=running -q'), ok(`${NEW_ID}\n${OLD_ID}\n`))
    .onArgv(TRAEFIK_API, ok(JSON.stringify({ serverStatus: { 'http://172.18.0.2:3000': 'UP' } })))
    .on({ script: `docker logs --tail 10 ${NEW_ID} 2>&1` }, ok(Array.from({ length: 12 }, (_, i) => `log ${i + 1}`).join('\n') + '\nsecret-value-123 leaked\n'))
    .onArgv(words(`docker stop -t 1 ${NEW_ID}`), ok(NEW_ID))
    .onArgv(words(`docker rename ${NEW_ID} app-web-v3_unhealthy_aaaaaaaaaaaa`), ok());
}

/** Every runner a test used: after it, none may have seen a command no rule answered (even one the step swallowed). */
const used: ScriptedRunner[] = [];
afterEach(() => {
  for (const runner of used.splice(0)) runner.assertNoUnexpected();
});

function context(runner: Runner): StepContext {
  if (runner instanceof ScriptedRunner) used.push(runner);
  return {
    runner,
    secrets: [{ reveal: () => 'secret-value-123', toString: () => '[REDACTED]' } as never],
    service: 'app',
    homes: { [HOST]: '/home/deploy' },
    appliedBy: 'test@here',
    pollIntervalMs: 10,
    drainGraceMs: 0,
    progress: () => {},
  };
}

function stepOf(action: StepAction): PlanStep {
  return { id: `${HOST}:web:x`, host: HOST, address: `${HOST}/container/app-web-v3`, symbol: '+/-', actions: ['create', 'delete'], cause: 'test', dependsOn: [], precondition: {}, batch: 0, action };
}

const waitStep = stepOf({ kind: 'container-wait-healthy', name: 'app-web-v3', timeout: 1, readinessDelay: 0 });

test('never healthy: the report names the probe, the last checks and 10 log lines; stopped, renamed, the old version verified', async () => {
  const runner = serving(new ScriptedRunner().onArgv(words('docker inspect --type container app-web-v3'), newContainer('unhealthy')));
  const error = await runStep(context(runner), waitStep).then(() => assert.fail('must fail'), (e: unknown) => e);
  assert.ok(error instanceof HealthCheckError, String(error));
  assert.equal(
    error.message,
    [
      'h1: app-web-v3 did not become healthy: still unhealthy after 1s',
      '  probed: GET http://127.0.0.1:3000/up (wget, else curl), run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)',
      '  last health checks (newest last):',
      ...Array.from({ length: 3 }, () => '    exit 1: wget: server returned error: HTTP/1.1 500 Internal Server Error'),
      '  last 10 log lines of app-web-v3:',
      ...Array.from({ length: 9 }, (_, i) => `    log ${i + 4}`),
      '    [REDACTED] leaked',
      '  app-web-v3 was stopped and renamed app-web-v3_unhealthy_aaaaaaaaaaaa: kept for inspection, never a rollback target.',
      '  The previous version v2 (app-web-v2) keeps serving: running, healthy, routed by Traefik.',
    ].join('\n'),
  );
  assert.ok(runner.lines().includes(`docker stop -t 1 ${NEW_ID}`));
  assert.ok(runner.lines().includes(`sh -c 'docker logs --tail 10 ${NEW_ID} 2>&1'`));
});

test('a stop that fails is said so: no "stopped and kept", no rename', async () => {
  const runner = serving(
    new ScriptedRunner()
      .onArgv(words('docker inspect --type container app-web-v3'), newContainer('unhealthy'))
      .onArgv(words(`docker stop -t 1 ${NEW_ID}`), fail('Error response from daemon: cannot stop container: permission denied')),
  );
  const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}Stopping app-web-v3 failed \(Error response from daemon: cannot stop container: permission denied\): it may still be running; run the command again or stop it by hand\.\n/);
  assert.doesNotMatch(error.message, /was stopped/);
  assert.ok(!runner.lines().some((l) => l.startsWith('docker rename')));
});

test('the old version is checked, not assumed: unhealthy and not routed is said so', async () => {
  const runner = serving(
    new ScriptedRunner()
      .onArgv(words('docker inspect --type container app-web-v3'), newContainer('unhealthy'))
      .onArgv(words(`docker inspect --type container ${OLD_ID}`), inspectJson({ id: OLD_ID, name: 'app-web-v2', version: 'v2', running: true, health: 'unhealthy', ip: '172.18.0.2' }))
      .onArgv(TRAEFIK_API, ok(JSON.stringify({ serverStatus: {} }))),
  );
  const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}The previous version v2 \(app-web-v2\) is running, but Docker reports it unhealthy and Traefik does not route to it\.$/);
  assert.doesNotMatch(error.message, /keeps serving/);
});

test('a container that exits is reported at once with its exit', async () => {
  const runner = serving(new ScriptedRunner().onArgv(words('docker inspect --type container app-web-v3'), newContainer('unhealthy', false)));
  const started = Date.now();
  const error = (await runStep(context(runner), { ...waitStep, action: { ...waitStep.action, timeout: 30 } as StepAction }).catch((e: unknown) => e)) as Error;
  assert.ok(Date.now() - started < 5000);
  assert.match(error.message, /^h1: app-web-v3 did not become healthy: it exited \(137\)\n/);
});

test('a transient SSH drop during the wait is retried: the container that turns healthy is not stopped', async () => {
  const runner = serving(
    new ScriptedRunner().onArgv(inspect('app-web-v3'), (_call, count) => {
      if (count === 1) return newContainer('starting');
      if (count <= 4) return new HostError(HOST, 'the SSH connection was closed', { kind: 'unreachable' });
      return newContainer('healthy');
    }),
  );
  await runStep(context(runner), { ...waitStep, action: { ...waitStep.action, timeout: 5 } as StepAction });
  assert.ok(!runner.lines().some((l) => l.startsWith('docker stop') || l.startsWith('docker rename')), runner.lines().join('\n'));
});

test('contact lost until the deadline: said so, nothing stopped, not "did not become healthy"', async () => {
  const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), (_call, count) =>
    count === 1 ? newContainer('starting') : new HostError(HOST, 'the SSH connection was closed', { kind: 'unreachable' }),
  );
  const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
  assert.ok(error instanceof DeployError && !(error instanceof HealthCheckError));
  assert.equal(
    error.message,
    'h1: lost contact with the host while waiting for app-web-v3 to become healthy (the SSH connection was closed). It was left as it was (last seen: starting); nothing was stopped. Run the command again once the host answers: it continues from there.',
  );
  assert.ok(!runner.lines().some((l) => l.startsWith('docker stop')));
});

const traefikSpec: TraefikSpec = {
  name: 'traefik',
  image: 'registry.invalid/traefik:nope',
  args: ['--providers.docker'],
  ports: ['80:80', '127.0.0.1:8080:8080'],
  volumes: ['/var/run/docker.sock:/var/run/docker.sock'],
  labels: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`label.${i}`, 'x'.repeat(30)])),
  options: [],
  network: 'mrsk',
  apiPort: 8080,
  specHash: 'v1:0',
};

test('a Traefik image that cannot be pulled: one line with the hint, and no docker run', async () => {
  const runner = new ScriptedRunner()
    .onArgv(words('docker inspect --type container traefik'), fail('Error: No such container: traefik'))
    .onArgv(['docker', 'image', 'inspect', '--format', '{{.Id}}', 'registry.invalid/traefik:nope'], fail('Error: No such image: registry.invalid/traefik:nope'))
    .onArgv(words('docker pull registry.invalid/traefik:nope'), fail('Error response from daemon: Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host\n'));
  const error = (await runStep(context(runner), stepOf({ kind: 'traefik-run', spec: traefikSpec })).catch((e: unknown) => e)) as Error;
  assert.equal(
    error.message,
    'h1: cannot pull the Traefik image registry.invalid/traefik:nope (Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host); set traefik.image in the config to an image this host can pull',
  );
  assert.ok(!runner.lines().some((l) => l.startsWith('docker run')));
});

test("the plan's pull of a new Traefik image (before the old one stops) fails with the same one line", async () => {
  const runner = new ScriptedRunner()
    .onArgv(words('docker pull registry.invalid/traefik:nope'), fail('Error response from daemon: manifest for registry.invalid/traefik:nope not found: manifest unknown\n'));
  const step = { ...stepOf({ kind: 'image-pull', image: 'registry.invalid/traefik:nope' }), address: `${HOST}/traefik` };
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.equal(
    error.message,
    'h1: cannot pull the Traefik image registry.invalid/traefik:nope (manifest for registry.invalid/traefik:nope not found: manifest unknown); set traefik.image in the config to an image this host can pull',
  );
});

test('a container that was running before this run (a repair) is reported but left running, not marked', async () => {
  const runner = serving(new ScriptedRunner().onArgv(words('docker inspect --type container app-web-v3'), newContainer('unhealthy')));
  const step = { ...waitStep, action: { ...waitStep.action, existing: 'running' } as StepAction };
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}app-web-v3 was left running, as it was before this run\.\n/);
  assert.ok(!runner.lines().some((l) => l.startsWith('docker stop') || l.startsWith('docker rename')));
});

test('a retained container started again (rollback) that fails is stopped again, not marked', async () => {
  const runner = serving(new ScriptedRunner().onArgv(words('docker inspect --type container app-web-v3'), newContainer('unhealthy')));
  const step = { ...waitStep, action: { ...waitStep.action, existing: 'stopped' } as StepAction };
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}app-web-v3 was stopped\.\n/);
  assert.ok(runner.lines().includes(`docker stop -t 1 ${NEW_ID}`));
  assert.ok(!runner.lines().some((l) => l.startsWith('docker rename')));
});

/** inspect of a running container whose cord folder is bind-mounted from the host. */
function withCordMount(result: ExecResult, hostDir: string): ExecResult {
  const [doc] = JSON.parse(result.stdout) as Record<string, unknown>[];
  return ok(JSON.stringify([{ ...doc, Mounts: [{ Type: 'bind', Source: hostDir, Destination: '/run/mrsk/cord' }] }]));
}

test('restoring a running container\'s cord: the mounted folder is made again and the file restored from inside too, no restart', async () => {
  const dir = '/home/deploy/.mrsk/app/cords/app-web-v3-0123456789ab';
  const runner = new ScriptedRunner()
    .onArgv(words(`docker inspect --type container ${NEW_ID}`), withCordMount(newContainer('unhealthy'), dir))
    .on({ script: `mkdir -p ${dir} && touch ${dir}/ok` }, ok())
    .onArgv(words(`docker exec ${NEW_ID} touch /run/mrsk/cord/ok`), ok());
  const step = { ...stepOf({ kind: 'container-start', containerId: NEW_ID, name: 'app-web-v3', cordDir: '.mrsk/app/cords/app-web-v3-0123456789ab' }), precondition: { containerId: NEW_ID } };
  await runStep(context(runner), step);
  assert.deepEqual(runner.lines().slice(1), [`sh -c 'mkdir -p ${dir} && touch ${dir}/ok'`, `docker exec ${NEW_ID} touch /run/mrsk/cord/ok`]);
});

test('a drain cuts the cord on the host and from inside the container', async () => {
  const dir = '/home/deploy/.mrsk/app/cords/app-web-v2-0123456789ab';
  const runner = new ScriptedRunner()
    .onArgv(words(`docker inspect --type container ${OLD_ID}`), withCordMount(oldContainer, dir))
    .on({ script: `rm -f ${dir}/ok` }, ok())
    .onArgv(words(`docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`), ok())
    .onArgv(TRAEFIK_API, ok(JSON.stringify({ serverStatus: { 'http://172.18.0.3:3000': 'UP' } })));
  const step = {
    ...stepOf({ kind: 'container-drain', containerId: OLD_ID, name: 'app-web-v2', service: 'app-web', cordDir: '.mrsk/app/cords/x', apiPort: 8080, timeout: 1 }),
    precondition: { containerId: OLD_ID },
  };
  await runStep(context(runner), step);
  assert.deepEqual(runner.lines().slice(1, 3), [`sh -c 'rm -f ${dir}/ok'`, `docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`]);
});

test('Traefik never routed because it is not running: said so, with the command that restores it', async () => {
  const runner = serving(
    new ScriptedRunner()
      .onArgv(words('docker inspect --type container app-web-v3'), newContainer('healthy'))
      .onArgv(TRAEFIK_API, fail('Error response from daemon: Container traefik is not running'))
      .onArgv(words('docker inspect --type container traefik'), ok(JSON.stringify([{ Id: 'c'.repeat(64), Name: '/traefik', State: { Status: 'exited', Running: false, ExitCode: 137 }, Config: { Labels: {} }, NetworkSettings: { Networks: {} } }])))
      .onArgv(words(`docker stop -t 1 ${NEW_ID}`), ok()),
  );
  const step = stepOf({ kind: 'traefik-wait-up', name: 'app-web-v3', service: 'app-web', apiPort: 8080, timeout: 1 });
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.equal(
    error.message,
    'h1: Traefik never routed to app-web-v3 (http://172.18.0.3:3000): timed out after 1s waiting for Traefik to route app-web to app-web-v3. ' +
      'Traefik is not running on this host (exited (137)): `mrsk traefik boot` or running the command again restores it. app-web-v3 was stopped. ' +
      "The previous version v2 (app-web-v2) is running and healthy, but whether Traefik routes to it is unknown: its API did not answer.",
  );
  assert.match(error.message, /Traefik is not running on this host \(exited \(137\)\): `mrsk traefik boot` or running the command again restores it\. app-web-v3 was stopped\./);
});

test('a cord folder removed under a running container: the file cannot be made inside, so that unrouted container is restarted', async () => {
  const dir = '/home/deploy/.mrsk/app/cords/app-web-v3-0123456789ab';
  const runner = new ScriptedRunner()
    .onArgv(words(`docker inspect --type container ${NEW_ID}`), withCordMount(newContainer('unhealthy'), dir))
    .on({ script: `mkdir -p ${dir} && touch ${dir}/ok` }, ok())
    .onArgv(words(`docker exec ${NEW_ID} touch /run/mrsk/cord/ok`), fail("touch: /run/mrsk/cord/ok: No such file or directory"))
    .onArgv(words(`docker restart -t 10 ${NEW_ID}`), ok(NEW_ID));
  const step = { ...stepOf({ kind: 'container-start', containerId: NEW_ID, name: 'app-web-v3', cordDir: '.mrsk/app/cords/app-web-v3-0123456789ab' }), precondition: { containerId: NEW_ID } };
  await runStep(context(runner), step);
  assert.equal(runner.lines().at(-1), `docker restart -t 10 ${NEW_ID}`);
});

test('dockerd stops answering while waiting for Traefik to route: lost sight is said (a host that may serve two versions), nothing is stopped or claimed', async () => {
  const down = fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  const runner = new ScriptedRunner()
    .onArgv(words('docker inspect --type container app-web-v3'), newContainer('healthy'), { times: 1 })
    .onArgv(words('docker inspect --type container app-web-v3'), down)
    .onArgv(TRAEFIK_API, down);
  const step = stepOf({ kind: 'traefik-wait-up', name: 'app-web-v3', service: 'app-web', apiPort: 8080, timeout: 1 });
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.ok(error instanceof HostError, String(error));
  assert.match(describeError(error), /^h1: lost sight of app-web-v3 while waiting for Traefik to route to it \(.*Cannot connect to the Docker daemon.*\); nothing was stopped$/);
  assert.doesNotMatch(describeError(error), /no longer exists|no traefik container/);
  assert.ok(!runner.lines().some((line) => line.startsWith('docker stop')), 'nothing is stopped');
});

test('the connection drops while waiting for Traefik to route: lost contact is said, nothing is stopped or claimed', async () => {
  const runner = new ScriptedRunner()
    .onArgv(words('docker inspect --type container app-web-v3'), newContainer('healthy'))
    .onArgv(TRAEFIK_API, new HostError(HOST, 'the SSH connection was closed'));
  const step = stepOf({ kind: 'traefik-wait-up', name: 'app-web-v3', service: 'app-web', apiPort: 8080, timeout: 5 });
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.ok(error instanceof HostError, String(error));
  assert.equal(describeError(error), 'h1: lost contact with the host while waiting for Traefik to route to app-web-v3 (the SSH connection was closed); nothing was stopped');
  assert.ok(!runner.lines().some((line) => line.startsWith('docker stop')), 'nothing is stopped');
});

// ---- every handler, one by one: what it sends, and that a finished step re-run does nothing ----

/** inspect JSON of any container, by the fields the steps read. */
function container(o: { id: string; name: string; running: boolean; labels?: Record<string, string>; health?: string; binds?: Record<string, string>; startedAt?: string }): ExecResult {
  return ok(
    JSON.stringify([
      {
        Id: o.id,
        Name: `/${o.name}`,
        State: { Status: o.running ? 'running' : 'exited', Running: o.running, ExitCode: 0, ...(o.startedAt ? { StartedAt: o.startedAt } : {}), ...(o.health ? { Health: { Status: o.health, Log: [] } } : {}) },
        Config: { Labels: o.labels ?? {}, Healthcheck: null },
        NetworkSettings: { Networks: {} },
        Mounts: Object.entries(o.binds ?? {}).map(([destination, source]) => ({ Type: 'bind', Source: source, Destination: destination })),
      },
    ]),
  );
}
const NO_SUCH = (name: string) => fail(`Error: No such container: ${name}`);
const webSpec = () => deriveDesired(makeConfig(), 'v3').hosts['h1.example.com']!.containers.find((spec) => spec.role === 'web')!;

describe('network-create', () => {
  test('creates a missing network', async () => {
    const runner = new ScriptedRunner().onArgv(words('docker network inspect mrsk'), fail('Error: No such network: mrsk')).onArgv(words('docker network create mrsk'), ok());
    await runStep(context(runner), stepOf({ kind: 'network-create', network: 'mrsk' }));
    assert.deepEqual(runner.lines(), ['docker network inspect mrsk', 'docker network create mrsk']);
  });
  test('an existing network: nothing to do', async () => {
    const runner = new ScriptedRunner().onArgv(words('docker network inspect mrsk'), ok('[{}]'));
    await runStep(context(runner), stepOf({ kind: 'network-create', network: 'mrsk' }));
    assert.deepEqual(runner.lines(), ['docker network inspect mrsk']);
  });
});

describe('image-pull', () => {
  test('pulls; a failure says why in one line, secrets redacted', async () => {
    const runner = new ScriptedRunner().onArgv(words('docker pull registry.example.com/app:v3'), ok());
    await runStep(context(runner), stepOf({ kind: 'image-pull', image: 'registry.example.com/app:v3' }));
    assert.deepEqual(runner.lines(), ['docker pull registry.example.com/app:v3']);
    const failing = new ScriptedRunner().onArgv(words('docker pull registry.example.com/app:v4'), fail('Error response from daemon: pull access denied for secret-value-123\n'));
    const error = (await runStep(context(failing), stepOf({ kind: 'image-pull', image: 'registry.example.com/app:v4' })).catch((e: unknown) => e)) as Error;
    assert.ok(error instanceof DeployError);
    assert.equal(error.message, 'h1: cannot pull registry.example.com/app:v4 (pull access denied for [REDACTED])');
  });
});

describe('container-run', () => {
  const TAKEN = 'mrsk: name taken';
  /** The one command of the common case: the name checked, then the cord and the run (for each runtime). */
  const runIfFree = (spec: ReturnType<typeof webSpec>, envFile: string | undefined, cord: string, rt: 'docker' | 'podman' = 'docker') =>
    docker.runContainerIfNameFree(rt, spec, { envFile, cordHostDir: cord }, [`mkdir -p ${cord} && touch ${cord}/ok`], TAKEN);

  test('the builder: the name is checked first; free, the steps before the run, then the run, all joined by &&', () => {
    const spec = webSpec();
    const script = docker.runContainerIfNameFree('docker', spec, { envFile: '/e', cordHostDir: '/c' }, ['mkdir -p /c && touch /c/ok', '{ [ -e /d ] || mkdir -p /d; }'], TAKEN);
    const run = toShell(docker.runContainer('docker', spec, { envFile: '/e', cordHostDir: '/c' }));
    assert.equal(script, `if docker inspect --type container --format '{{.Id}}' ${spec.name} >/dev/null 2>&1; then echo 'mrsk: name taken'; else mkdir -p /c && touch /c/ok && { [ -e /d ] || mkdir -p /d; } && ${run}; fi`);
    assert.ok(runIfFree(spec, '/e', '/c', 'podman').startsWith(`if podman inspect --type container --format '{{.Id}}' ${spec.name} `));
  });

  test('a new container: the secrets go to a 0600 env file first, then one command makes the cord and runs it with both', async () => {
    const spec = webSpec();
    const home = '/home/deploy';
    const envFile = `${home}/.mrsk/app/env/${spec.name}.env`;
    const cord = `${home}/${spec.cordDir}`;
    const runner = new ScriptedRunner().on({ script: runIfFree(spec, envFile, cord) }, ok(NEW_ID));
    await runStep(context(runner), { ...stepOf({ kind: 'container-run', spec }), host: HOST });
    assert.deepEqual(runner.uploads, [{ host: HOST, path: envFile, content: `DATABASE_URL=${DATABASE_URL_VALUE}\n`, mode: 0o600 }]);
    assert.equal(runner.calls.length, 1);
    assert.ok(!runner.lines().some((line) => line.includes(DATABASE_URL_VALUE)), 'no secret on a command line');
  });

  test('a failed run fails the step with its reason', async () => {
    const spec = webSpec();
    const runner = new ScriptedRunner().on({ script: /^if docker inspect / }, fail('docker: Error response from daemon: pull access denied.', 125));
    await assert.rejects(runStep(context(runner), stepOf({ kind: 'container-run', spec })), /pull access denied/);
    assert.equal(runner.calls.length, 1);
  });

  test('its own container from an interrupted run (same spec): started, not run again', async () => {
    const spec = webSpec();
    const cord = `/home/deploy/${spec.cordDir}`;
    const runner = new ScriptedRunner()
      .on({ script: /^if docker inspect / }, ok(`${TAKEN}\n`))
      .onArgv(inspect(spec.name), container({ id: NEW_ID, name: spec.name, running: false, labels: spec.labels }))
      .on({ script: `mkdir -p ${cord} && touch ${cord}/ok` }, ok())
      .onArgv(words(`docker start ${NEW_ID}`), ok());
    await runStep(context(runner), stepOf({ kind: 'container-run', spec }));
    assert.equal(runner.lines().at(-1), `docker start ${NEW_ID}`);
    assert.equal(runner.calls.length, 4);
    // running already: nothing more than the cord
    const again = new ScriptedRunner()
      .on({ script: /^if docker inspect / }, ok(`${TAKEN}\n`))
      .onArgv(inspect(spec.name), container({ id: NEW_ID, name: spec.name, running: true, labels: spec.labels }))
      .on({ script: `mkdir -p ${cord} && touch ${cord}/ok` }, ok());
    await runStep(context(again), stepOf({ kind: 'container-run', spec }));
    assert.equal(again.calls.length, 3);
  });

  test('a container of another spec holds the name: stale, nothing run', async () => {
    const spec = webSpec();
    const runner = new ScriptedRunner()
      .on({ script: /^if docker inspect / }, ok(`${TAKEN}\n`))
      .onArgv(inspect(spec.name), container({ id: OLD_ID, name: spec.name, running: true, labels: { ...spec.labels, 'mrsk.spec-hash': 'v1:other' } }));
    await assert.rejects(runStep(context(runner), stepOf({ kind: 'container-run', spec })), (error: Error) => error instanceof StalePlanError && error.message === `h1: a container named ${spec.name} exists with another spec; re-run plan`);
    assert.equal(runner.calls.length, 2);
  });

  test('a same-version replacement renames the serving container aside, then runs the new one', async () => {
    const spec = webSpec();
    const cord = `/home/deploy/${spec.cordDir}`;
    const envFile = `/home/deploy/.mrsk/app/env/${spec.name}.env`;
    const runner = new ScriptedRunner()
      .on({ script: runIfFree(spec, envFile, cord) }, ok(`${TAKEN}\n`), { times: 1 })
      .onArgv(inspect(spec.name), container({ id: OLD_ID, name: spec.name, running: true, labels: { ...spec.labels, 'mrsk.spec-hash': 'v1:old' } }))
      .onArgv(words(`docker rename ${OLD_ID} ${spec.name}_replaced`), ok())
      .on({ script: runIfFree(spec, envFile, cord) }, ok(NEW_ID));
    await runStep(context(runner), stepOf({ kind: 'container-run', spec, replaces: { containerId: OLD_ID, renameTo: `${spec.name}_replaced` } }));
    assert.deepEqual(runner.lines().slice(1, 3), [`docker inspect --type container ${spec.name}`, `docker rename ${OLD_ID} ${spec.name}_replaced`]);
    assert.equal(runner.calls.length, 4);
  });

  test('the name taken again after the rename: stale, said so', async () => {
    const spec = webSpec();
    const runner = new ScriptedRunner()
      .on({ script: /^if docker inspect / }, ok(`${TAKEN}\n`))
      .onArgv(inspect(spec.name), container({ id: OLD_ID, name: spec.name, running: true, labels: { ...spec.labels, 'mrsk.spec-hash': 'v1:old' } }))
      .onArgv(words(`docker rename ${OLD_ID} ${spec.name}_replaced`), ok());
    await assert.rejects(runStep(context(runner), stepOf({ kind: 'container-run', spec, replaces: { containerId: OLD_ID, renameTo: `${spec.name}_replaced` } })), (error: Error) => error instanceof StalePlanError && /appeared while mrsk ran it; re-run plan$/.test(error.message));
  });
});

test('assets-prepare runs the bridging script with absolute folders, with 5 minutes to do it', async () => {
  const action = { kind: 'assets-prepare', name: 'app-web-v3', image: 'app:v3', assetPath: '/rails/public/assets', hostDir: '.mrsk/app/assets/web/v3', previousDirs: ['.mrsk/app/assets/web/v2'] } as const;
  const expected = prepareAssetsScript({
    runtime: 'docker',
    image: 'app:v3',
    assetPath: '/rails/public/assets',
    dir: '/home/deploy/.mrsk/app/assets/web/v3',
    previousDirs: ['/home/deploy/.mrsk/app/assets/web/v2'],
    scratchName: 'app-web-v3-assets',
  });
  const runner = new ScriptedRunner().on({ script: expected }, ok());
  await runStep(context(runner), stepOf(action));
  assert.equal(runner.calls[0]!.options.timeoutMs, 300_000);
});

describe('traefik-run', () => {
  test('absent, image present: docker run of Traefik, no pull', async () => {
    const runner = new ScriptedRunner()
      .onArgv(inspect('traefik'), NO_SUCH('traefik'))
      .onArgv(['docker', 'image', 'inspect', '--format', '{{.Id}}', traefikSpec.image], ok('sha256:1\n'))
      .on({ script: docker.runTraefik('docker', traefikSpec).script }, ok('c'.repeat(64)));
    await runStep(context(runner), stepOf({ kind: 'traefik-run', spec: traefikSpec }));
    assert.equal(runner.calls.length, 3);
  });
  test('its own Traefik (same spec): started when stopped, left alone when running; another spec is stale', async () => {
    const stopped = new ScriptedRunner()
      .onArgv(inspect('traefik'), container({ id: 'c'.repeat(64), name: 'traefik', running: false, labels: { 'mrsk.spec-hash': traefikSpec.specHash } }))
      .onArgv(['docker', 'start', 'c'.repeat(64)], ok());
    await runStep(context(stopped), stepOf({ kind: 'traefik-run', spec: traefikSpec }));
    assert.equal(stopped.calls.length, 2);
    const running = new ScriptedRunner().onArgv(inspect('traefik'), container({ id: 'c'.repeat(64), name: 'traefik', running: true, labels: { 'mrsk.spec-hash': traefikSpec.specHash } }));
    await runStep(context(running), stepOf({ kind: 'traefik-run', spec: traefikSpec }));
    assert.equal(running.calls.length, 1);
    const other = new ScriptedRunner().onArgv(inspect('traefik'), container({ id: 'c'.repeat(64), name: 'traefik', running: true, labels: { 'mrsk.spec-hash': 'v1:else' } }));
    await assert.rejects(runStep(context(other), stepOf({ kind: 'traefik-run', spec: traefikSpec })), StalePlanError);
    assert.equal(other.calls.length, 1);
  });
  test("docker run of Traefik fails: one line with the daemon's reason", async () => {
    const runner = new ScriptedRunner()
      .onArgv(inspect('traefik'), NO_SUCH('traefik'))
      .onArgv(['docker', 'image', 'inspect', '--format', '{{.Id}}', traefikSpec.image], ok('sha256:1\n'))
      .on({ script: /^docker run -d --name traefik / }, fail('docker: Error response from daemon: driver failed programming external connectivity: Bind for 0.0.0.0:80 failed: port is already allocated.\n', 125));
    const error = (await runStep(context(runner), stepOf({ kind: 'traefik-run', spec: traefikSpec })).catch((e: unknown) => e)) as Error;
    assert.equal(error.message, `h1: starting Traefik (${traefikSpec.image}) failed: Error response from daemon: driver failed programming external connectivity: Bind for 0.0.0.0:80 failed: port is already allocated.`);
  });
});

test('container-start of a stopped container: its cord is made, then docker start', async () => {
  const runner = new ScriptedRunner()
    .onArgv(inspect(OLD_ID), container({ id: OLD_ID, name: 'app-web-v2', running: false }))
    .on({ script: 'mkdir -p /home/deploy/.mrsk/app/cords/v2 && touch /home/deploy/.mrsk/app/cords/v2/ok' }, ok())
    .onArgv(words(`docker start ${OLD_ID}`), ok());
  await runStep(context(runner), { ...stepOf({ kind: 'container-start', containerId: OLD_ID, name: 'app-web-v2', cordDir: '.mrsk/app/cords/v2' }), precondition: { containerId: OLD_ID } });
  assert.equal(runner.calls.length, 3);
});

describe('container-wait-healthy', () => {
  test('healthy at the first look: done', async () => {
    const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), newContainer('healthy'));
    await runStep(context(runner), waitStep);
    assert.equal(runner.calls.length, 1);
  });
  test('no healthcheck: it must stay running for its readiness delay, looked at when it starts and when it is over', async () => {
    const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), container({ id: NEW_ID, name: 'app-web-v3', running: true, startedAt: '2026-12-01T10:00:00.1Z' }));
    const started = Date.now();
    await runStep(context(runner), stepOf({ kind: 'container-wait-healthy', name: 'app-web-v3', timeout: 5, readinessDelay: 0.2 }));
    assert.ok(Date.now() - started >= 200);
    assert.equal(runner.calls.length, 2, 'no looks in between (the poll interval here is 2 ms)');
  });
  test('no healthcheck: a container that restarted between looks waits its whole delay again', async () => {
    const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), (_call, count) =>
      container({ id: NEW_ID, name: 'app-web-v3', running: true, startedAt: count === 1 ? '2026-12-01T10:00:00.1Z' : '2026-12-01T10:00:00.3Z' }),
    );
    const progress: string[] = [];
    const started = Date.now();
    await runStep({ ...context(runner), progress: (message: string) => progress.push(message) }, stepOf({ kind: 'container-wait-healthy', name: 'app-web-v3', timeout: 5, readinessDelay: 0.3 }));
    // from the second look: 600 ms; from the first, 300. (A timer may fire a few ms early on a busy
    // machine: Node counts it from the event loop's cached time.)
    const took = Date.now() - started;
    assert.ok(took >= 500, `the delay counted again from the second look: ${took} ms`);
    assert.equal(runner.calls.length, 3);
    assert.ok(progress.includes('it restarted: its readiness delay starts again'), progress.join('\n'));
  });
  test('the container disappears: never healthy, nothing left to stop', async () => {
    const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), NO_SUCH('app-web-v3')).on({ script: 'docker logs --tail 10 app-web-v3 2>&1' }, fail('Error: No such container: app-web-v3'));
    const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
    assert.ok(error instanceof HealthCheckError);
    assert.match(error.message, /^h1: app-web-v3 did not become healthy: it disappeared\n/);
    assert.ok(!runner.lines().some((l) => l.startsWith('docker stop')));
  });
  test('interrupted while waiting: says so, stops nothing', async () => {
    const interrupt = new AbortController();
    const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), () => (interrupt.abort(), newContainer('starting')));
    const error = (await runStep({ ...context(runner), signal: interrupt.signal }, { ...waitStep, action: { ...waitStep.action, timeout: 30 } as StepAction }).catch((e: unknown) => e)) as Error;
    assert.equal(error.message, 'h1: interrupted while app-web-v3 was starting; this step stopped nothing, and running the command again finishes the job');
    assert.equal(runner.calls.length, 1);
  });
});

test('traefik-wait-up: routed already, done at the first look', async () => {
  const runner = new ScriptedRunner()
    .onArgv(inspect('app-web-v3'), newContainer('healthy'))
    .onArgv(TRAEFIK_API, ok(JSON.stringify({ serverStatus: { 'http://172.18.0.3:3000': 'UP' } })));
  await runStep(context(runner), stepOf({ kind: 'traefik-wait-up', name: 'app-web-v3', service: 'app-web', apiPort: 8080, timeout: 5 }));
  assert.equal(runner.calls.length, 2);
});

describe('container-drain', () => {
  const drain = { ...stepOf({ kind: 'container-drain', containerId: OLD_ID, name: 'app-web-v2', service: 'app-web', cordDir: '.mrsk/app/cords/v2', apiPort: 8080, timeout: 1 }), precondition: { containerId: OLD_ID } };
  test('polls until Traefik has dropped the server, then waits the grace', async () => {
    const runner = new ScriptedRunner()
      .onArgv(inspect(OLD_ID), withCordMount(oldContainer, '/home/deploy/.mrsk/app/cords/v2'))
      .on({ script: 'rm -f /home/deploy/.mrsk/app/cords/v2/ok' }, ok())
      .onArgv(words(`docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`), ok())
      .onArgv(TRAEFIK_API, (_call, count) => ok(JSON.stringify({ serverStatus: count < 3 ? { 'http://172.18.0.2:3000': 'UP' } : {} })));
    await runStep({ ...context(runner), drainGraceMs: 50 }, drain);
    assert.equal(runner.calls.filter((c) => c.argv?.includes('wget')).length, 3);
  });
  describe('the grace after Traefik dropped it: over once two looks at its connections find nothing in flight', () => {
    const SS = ['nsenter', '-t', '4242', '-n', 'ss', '-H', '-t', '-i', '-n'];
    const IDLE = 'ESTAB 0 0 172.18.0.2:3000 172.18.0.9:40000\n\t bytes_sent:300 bytes_received:90 lastsnd:400 lastrcv:410\n';
    const BUSY = 'ESTAB 0 0 172.18.0.2:3000 172.18.0.9:40001\n\t bytes_received:90 lastsnd:20 lastrcv:20\n';
    const withPid = (result: ExecResult): ExecResult => {
      const [doc] = JSON.parse(result.stdout) as { State: Record<string, unknown> }[];
      return ok(JSON.stringify([{ ...doc, State: { ...doc!.State, Pid: 4242 } }]));
    };
    const mounted = withCordMount(oldContainer, '/home/deploy/.mrsk/app/cords/v2');
    const drained = (ss: (count: number) => ExecResult, inspected: ExecResult = withPid(mounted)) =>
      new ScriptedRunner()
        .onArgv(inspect(OLD_ID), inspected)
        .on({ script: 'rm -f /home/deploy/.mrsk/app/cords/v2/ok' }, ok())
        .onArgv(words(`docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`), ok())
        .onArgv(TRAEFIK_API, ok(JSON.stringify({ serverStatus: {} })))
        .onArgv(SS, (_call, count) => ss(count));
    const looks = (runner: ScriptedRunner) => runner.calls.filter((c) => c.argv?.[0] === 'nsenter').length;
    const timed = async (runner: ScriptedRunner, graceMs: number) => {
      const started = Date.now();
      await runStep({ ...context(runner), drainGraceMs: graceMs }, drain);
      return Date.now() - started;
    };
    test('idle connections only: two looks, then the stop, long before the grace is over', async () => {
      const runner = drained(() => ok(IDLE));
      const ms = await timed(runner, 10_000);
      assert.equal(looks(runner), 2);
      assert.ok(ms < 5000, `${ms} ms`);
    });
    test('a request in flight: looked at again until two looks in a row find none', async () => {
      const runner = drained((count) => ok(count <= 2 ? IDLE + BUSY : count === 3 ? IDLE : count === 4 ? BUSY : IDLE));
      await timed(runner, 10_000);
      assert.equal(looks(runner), 6, 'busy, busy, quiet, busy, quiet, quiet');
    });
    test('busy all along: the whole grace, and not longer', async () => {
      const runner = drained(() => ok(BUSY));
      const ms = await timed(runner, 600);
      assert.ok(ms >= 595 && ms < 3000, `${ms} ms`);
      assert.ok(looks(runner) >= 2, 'looked more than once');
    });
    test('no way to look (not root on the host, output not understood): the whole grace after one try', async () => {
      for (const answer of [fail('nsenter: cannot open /proc/4242/ns/net: Permission denied'), ok('Usage: ss [ OPTIONS ]\n')]) {
        const runner = drained(() => answer);
        const ms = await timed(runner, 400);
        assert.ok(ms >= 395, `${ms} ms (timers may fire a ms early)`);
        assert.equal(looks(runner), 1);
      }
    });
    test('no pid in the inspect (a runtime that does not say): the whole grace, no look', async () => {
      const runner = drained(() => ok(IDLE), mounted);
      const ms = await timed(runner, 300);
      assert.ok(ms >= 295, `${ms} ms`);
      assert.equal(looks(runner), 0);
    });
  });
  test('the last server (app stop): Traefik drops the whole service, so its URL fails while Traefik runs; drained once the list lacks it', async () => {
    const list = ['docker', 'exec', 'traefik', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/api/http/services?search=app-web&per_page=1000'];
    const runner = new ScriptedRunner()
      .onArgv(inspect(OLD_ID), withCordMount(oldContainer, '/home/deploy/.mrsk/app/cords/v2'))
      .on({ script: 'rm -f /home/deploy/.mrsk/app/cords/v2/ok' }, ok())
      .onArgv(words(`docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`), ok())
      .onArgv(TRAEFIK_API, (_call, count) => (count < 2 ? ok(JSON.stringify({ serverStatus: { 'http://172.18.0.2:3000': 'UP' } })) : fail('wget: server returned error: HTTP/1.1 404 Not Found')))
      .onArgv(inspect('traefik'), container({ id: 'c'.repeat(64), name: 'traefik', running: true }))
      // first an unanswered list (says nothing), then one that still names it (a moment before Traefik drops it), then the service is gone
      .onArgv(list, (_call, count) =>
        count === 1 ? fail('wget: error getting response') : ok(JSON.stringify(count === 2 ? [{ name: 'app-web@docker' }, { name: 'app-web-2@docker' }] : [{ name: 'app-web-2@docker' }])),
      );
    const progress: string[] = [];
    const started = Date.now();
    await runStep({ ...context(runner), progress: (m) => progress.push(m) }, drain);
    assert.ok(Date.now() - started < 5000, 'drained at once, not after the 60 s deadline');
    assert.equal(runner.calls.filter((c) => c.argv?.join(' ') === list.join(' ')).length, 3);
    assert.ok(!runner.lines().some((l) => l.startsWith('docker stop')), 'a drain stops nothing');
    assert.deepEqual(progress, [], 'no "stopping anyway": the drain was seen');
  });
  test('a container with no cord mounted (made by hand with the labels): its replacement\'s cord is left alone, no wait for Traefik', async () => {
    const runner = new ScriptedRunner().onArgv(inspect(OLD_ID), oldContainer);
    const progress: string[] = [];
    await runStep({ ...context(runner), drainGraceMs: 10, progress: (m) => progress.push(m) }, drain);
    assert.deepEqual(runner.lines(), [inspect(OLD_ID).join(' ')], 'nothing but the inspect: no cord removed, no Traefik poll');
    assert.match(progress.join('\n'), /no drain cord/);
  });
  test('a stopped container: nothing to drain', async () => {
    const runner = new ScriptedRunner().onArgv(inspect(OLD_ID), container({ id: OLD_ID, name: 'app-web-v2', running: false }));
    await runStep(context(runner), drain);
    assert.equal(runner.calls.length, 1);
  });
  test('Traefik is not running: the host fails and the old container keeps running', async () => {
    const runner = new ScriptedRunner()
      .onArgv(inspect(OLD_ID), withCordMount(oldContainer, '/home/deploy/.mrsk/app/cords/v2'))
      .on({ script: 'rm -f /home/deploy/.mrsk/app/cords/v2/ok' }, ok())
      .onArgv(words(`docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`), ok())
      .onArgv(TRAEFIK_API, fail('Error response from daemon: Container traefik is not running'))
      .onArgv(inspect('traefik'), container({ id: 'c'.repeat(64), name: 'traefik', running: false }));
    const error = (await runStep(context(runner), drain).catch((e: unknown) => e)) as Error;
    assert.match(error.message, /^h1: could not drain app-web-v2: Traefik is not running on this host \(exited \(0\)\): .*app-web-v2 was left running\.$/);
    assert.ok(!runner.lines().some((l) => l.startsWith('docker stop')));
  });
  test('dockerd stops answering: said so (not "no traefik container"), and the old container is left running', async () => {
    const down = fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    const runner = new ScriptedRunner()
      .onArgv(inspect(OLD_ID), withCordMount(oldContainer, '/home/deploy/.mrsk/app/cords/v2'))
      .on({ script: 'rm -f /home/deploy/.mrsk/app/cords/v2/ok' }, ok())
      .onArgv(words(`docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`), down)
      .onArgv(TRAEFIK_API, down)
      .onArgv(inspect('traefik'), down);
    const error = (await runStep(context(runner), drain).catch((e: unknown) => e)) as Error;
    assert.match(error.message, /^h1: could not drain app-web-v2: docker does not answer on this host, so neither does Traefik \(.*Cannot connect to the Docker daemon.*\)\. app-web-v2 was left running\.$/);
    assert.doesNotMatch(error.message, /no traefik container/);
    assert.ok(!runner.lines().some((l) => l.startsWith('docker stop')));
  });
});

describe('container-stop', () => {
  const stop = { ...stepOf({ kind: 'container-stop', containerId: OLD_ID, name: 'app-web-v2', timeout: 30 }), precondition: { containerId: OLD_ID } };
  test('stops with its grace period, and gives the command that long and more', async () => {
    const runner = new ScriptedRunner().onArgv(inspect(OLD_ID), oldContainer).onArgv(words(`docker stop -t 30 ${OLD_ID}`), ok());
    await runStep(context(runner), stop);
    assert.equal(runner.calls[1]!.options.timeoutMs, 60_000);
  });
  test('stopped already: nothing to do', async () => {
    const runner = new ScriptedRunner().onArgv(inspect(OLD_ID), container({ id: OLD_ID, name: 'app-web-v2', running: false }));
    await runStep(context(runner), stop);
    assert.equal(runner.calls.length, 1);
  });
});

describe('container-remove', () => {
  const remove = {
    ...stepOf({ kind: 'container-remove', containerId: OLD_ID, name: 'app-web-v2', cordDir: '.mrsk/app/cords/v2', assetsDir: '.mrsk/app/assets/web/v2' }),
    precondition: { containerId: OLD_ID },
  };
  test('removes the container, its env file, its cord folder and its version\'s assets', async () => {
    const runner = new ScriptedRunner()
      .onArgv(inspect(OLD_ID), oldContainer)
      .onArgv(words(`docker rm -f ${OLD_ID}`), ok())
      .on({ script: 'rm -f /home/deploy/.mrsk/app/env/app-web-v2.env && rm -rf /home/deploy/.mrsk/app/cords/v2' }, ok())
      .on({ script: removeAssetsScript('/home/deploy/.mrsk/app/assets/web/v2') }, ok());
    await runStep(context(runner), remove);
    assert.equal(runner.calls.length, 4);
  });
  test('without a precondition and the container gone: only the files are cleaned up', async () => {
    const runner = new ScriptedRunner()
      .onArgv(inspect(OLD_ID), NO_SUCH(OLD_ID))
      .on({ script: 'rm -f /home/deploy/.mrsk/app/env/app-web-v2.env && rm -rf /home/deploy/.mrsk/app/cords/v2' }, ok())
      .on({ script: removeAssetsScript('/home/deploy/.mrsk/app/assets/web/v2') }, ok());
    await runStep(context(runner), { ...remove, precondition: {} });
    assert.ok(!runner.lines().some((l) => l.startsWith('docker rm')));
  });
});

describe('image-remove', () => {
  const step = stepOf({ kind: 'image-remove', image: 'app:v1' });
  for (const [why, stderr] of [
    ['gone already', 'Error response from daemon: No such image: app:v1'],
    ['still used by a container (left for the next prune)', 'Error response from daemon: conflict: unable to remove repository reference "app:v1" (must force) - container 123 is using its referenced image'],
  ] as const) {
    test(`${why}: success`, async () => {
      const runner = new ScriptedRunner().onArgv(words('docker image rm app:v1'), fail(stderr));
      await runStep(context(runner), step);
      assert.equal(runner.calls.length, 1);
    });
  }
  test('another failure is tried once more and then fails the step', async () => {
    const runner = new ScriptedRunner().onArgv(words('docker image rm app:v1'), fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock'));
    await assert.rejects(runStep(context(runner), step), RemoteCommandError);
    assert.equal(runner.calls.length, 2);
  });
});

test('release-record uploads the record and the same as current.json', async () => {
  const runner = new ScriptedRunner();
  await runStep(context(runner), stepOf({ kind: 'release-record', version: 'v3', specHashes: { web: 'v1:abc' }, traefikSpecHash: 'v1:t', missedHosts: [{ host: 'h9', reason: 'unreachable' }] }));
  assert.equal(runner.calls.length, 0);
  assert.equal(runner.uploads.length, 2);
  const [release, current] = runner.uploads;
  assert.match(release!.path, /^\/home\/deploy\/\.mrsk\/app\/releases\/\d{8}T\d{6}-v3\.json$/);
  assert.equal(current!.path, '/home/deploy/.mrsk/app/releases/current.json');
  assert.equal(release!.content, current!.content);
  const record = JSON.parse(release!.content) as Record<string, unknown>;
  assert.deepEqual({ ...record, id: undefined, appliedAt: undefined }, {
    id: undefined,
    appliedAt: undefined,
    version: 'v3',
    appliedBy: 'test@here',
    specHashes: { web: 'v1:abc' },
    traefikSpecHash: 'v1:t',
    missedHosts: [{ host: 'h9', reason: 'unreachable' }],
  });
  assert.equal(release!.mode, 0o644);
});

describe('stale preconditions: nothing is run', () => {
  test('the container the step is about is gone', async () => {
    const runner = new ScriptedRunner().onArgv(inspect(OLD_ID), NO_SUCH(OLD_ID));
    const step = { ...stepOf({ kind: 'container-stop', containerId: OLD_ID, name: 'app-web-v2', timeout: 30 }), precondition: { containerId: OLD_ID } };
    await assert.rejects(runStep(context(runner), step), (error: Error) => error instanceof StalePlanError && error.message === `h1: step h1:web:x is stale: container ${OLD_ID.slice(0, 12)} no longer exists`);
    assert.equal(runner.calls.length, 1);
  });
  test('a name that must be free is taken', async () => {
    const runner = new ScriptedRunner().onArgv(inspect('app-web-v3'), newContainer('healthy'));
    const step = { ...stepOf({ kind: 'network-create', network: 'mrsk' }), precondition: { absentName: 'app-web-v3' } };
    await assert.rejects(runStep(context(runner), step), (error: Error) => error instanceof StalePlanError && error.message === 'h1: step h1:web:x is stale: a container named app-web-v3 exists');
    assert.equal(runner.calls.length, 1);
  });
  test('container-run looks at the name itself (its own container of an interrupted run may hold it)', async () => {
    const spec = webSpec();
    const cord = `/home/deploy/${spec.cordDir}`;
    const runner = new ScriptedRunner()
      .on({ script: /^if docker inspect / }, ok('mrsk: name taken\n'))
      .onArgv(inspect(spec.name), container({ id: NEW_ID, name: spec.name, running: true, labels: spec.labels }))
      .on({ script: `mkdir -p ${cord} && touch ${cord}/ok` }, ok());
    await runStep(context(runner), { ...stepOf({ kind: 'container-run', spec }), precondition: { absentName: spec.name } });
    assert.equal(runner.calls.length, 3);
  });
});

// ---- the executor and the steps together, on a hand-built plan of two hosts ----

describe('executor with the real steps', () => {
  function planStep(id: string, host: string, action: StepAction, dependsOn: string[] = [], precondition: PlanStep['precondition'] = {}): PlanStep {
    return { id, host, address: `${host}/${id}`, symbol: '+', actions: ['create'], cause: 'test', dependsOn, precondition, batch: 0, action };
  }
  const plan = (steps: PlanStep[]): Plan => ({ formatVersion: '1', service: 'app', version: 'v3', steps, blockedHosts: [], snapshotFingerprint: 'x', batchWait: 0 });
  const steps = [
    planStep('h1:net', 'h1', { kind: 'network-create', network: 'mrsk' }),
    planStep('h1:pull', 'h1', { kind: 'image-pull', image: 'app:v3' }),
    planStep('h1:wait', 'h1', { kind: 'container-wait-healthy', name: 'app-web-v3', timeout: 1, readinessDelay: 0 }, ['h1:net', 'h1:pull']),
    planStep('h1:stop', 'h1', { kind: 'container-stop', containerId: OLD_ID, name: 'app-web-v2', timeout: 10 }, ['h1:wait'], { containerId: OLD_ID }),
    planStep('h2:pull', 'h2', { kind: 'image-pull', image: 'app:v3' }),
    planStep('h2:stop', 'h2', { kind: 'container-stop', containerId: OLD_ID, name: 'app-web-v2', timeout: 10 }, ['h2:pull'], { containerId: OLD_ID }),
  ];

  test('each host in dependency order; a failed pull skips what depends on it there, the other host finishes', async () => {
    const runner = new ScriptedRunner()
      .on({ argv: words('docker network inspect mrsk') }, ok('[{}]'))
      .on({ host: 'h1', argv: words('docker pull app:v3') }, ok())
      .on({ host: 'h2', argv: words('docker pull app:v3') }, fail('Error response from daemon: manifest for app:v3 not found: manifest unknown'))
      .on({ host: 'h1', argv: inspect('app-web-v3') }, newContainer('healthy'))
      .on({ host: 'h1', argv: inspect(OLD_ID) }, oldContainer)
      .on({ host: 'h1', argv: words(`docker stop -t 10 ${OLD_ID}`) }, ok());
    const events: ExecutorEvent[] = [];
    const result = await executePlan({ ...context(runner), homes: { h1: '/home/deploy', h2: '/home/deploy' }, plan: plan(steps), onEvent: (e) => events.push(e) });
    assert.equal(result.ok, false);
    assert.deepEqual(result.statuses, { 'h1:net': 'done', 'h1:pull': 'done', 'h1:wait': 'done', 'h1:stop': 'done', 'h2:pull': 'failed', 'h2:stop': 'skipped' });
    assert.deepEqual(result.failures.map((f) => [f.step.id, f.error.message]), [['h2:pull', 'h2: cannot pull app:v3 (manifest for app:v3 not found: manifest unknown)']]);
    assert.deepEqual(runner.lines('h1'), ['docker network inspect mrsk', 'docker pull app:v3', 'docker inspect --type container app-web-v3', `docker inspect --type container ${OLD_ID}`, `docker stop -t 10 ${OLD_ID}`]);
    assert.deepEqual(runner.lines('h2'), ['docker pull app:v3']);
    assert.ok(events.some((e) => e.type === 'step-end' && e.step.id === 'h2:stop' && e.status === 'skipped'));
  });

  test('run again once everything is in place: every step finds its work done', async () => {
    const runner = new ScriptedRunner()
      .on({ argv: words('docker network inspect mrsk') }, ok('[{}]'))
      .on({ argv: words('docker pull app:v3') }, ok())
      .on({ argv: inspect('app-web-v3') }, newContainer('healthy'))
      .on({ argv: inspect(OLD_ID) }, container({ id: OLD_ID, name: 'app-web-v2', running: false }));
    const result = await executePlan({ ...context(runner), homes: { h1: '/home/deploy', h2: '/home/deploy' }, plan: plan(steps) });
    assert.equal(result.ok, true);
    assert.ok(!runner.lines().some((l) => l.startsWith('docker stop') || l.startsWith('docker network create')), runner.lines().join('\n'));
  });

  test('an interrupt between steps: the ones not started are skipped, none fails', async () => {
    const interrupt = new AbortController();
    const runner = new ScriptedRunner()
      .on({ argv: words('docker network inspect mrsk') }, ok('[{}]'))
      .on({ argv: words('docker pull app:v3') }, () => (interrupt.abort(), ok()));
    const result = await executePlan({ ...context(runner), signal: interrupt.signal, homes: { h1: '/home/deploy', h2: '/home/deploy' }, plan: plan(steps) });
    assert.equal(result.ok, false);
    assert.equal(result.failures.length, 0);
    assert.equal(result.statuses['h1:wait'], 'skipped');
    assert.equal(result.statuses['h2:stop'], 'skipped');
  });
});

describe('network-remove', () => {
  test('removes the network when it is there; a missing one is done already', async () => {
    const runner = new ScriptedRunner().onArgv(words('docker network inspect mrsk'), ok('[{}]')).onArgv(words('docker network rm mrsk'), ok());
    await runStep(context(runner), stepOf({ kind: 'network-remove', network: 'mrsk' }));
    assert.deepEqual(runner.lines(), ['docker network inspect mrsk', 'docker network rm mrsk']);
    const gone = new ScriptedRunner().onArgv(words('docker network inspect mrsk'), fail('Error: No such network: mrsk'));
    await runStep(context(gone), stepOf({ kind: 'network-remove', network: 'mrsk' }));
    assert.deepEqual(gone.lines(), ['docker network inspect mrsk']);
  });
});

describe('traefik-wait-ready', () => {
  const PING = ['docker', 'exec', 'traefik', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/ping'];
  test('polls /ping until Traefik answers OK', async () => {
    const runner = new ScriptedRunner().onArgv(PING, (_call, count) => (count < 3 ? fail('wget: can\'t connect to remote host') : ok('OK')));
    await runStep(context(runner), stepOf({ kind: 'traefik-wait-ready', apiPort: 8080, timeout: 5 }));
    assert.equal(runner.calls.length, 3);
  });
  test('a Traefik that never answers fails the step at its deadline', async () => {
    const runner = new ScriptedRunner().onArgv(PING, fail('Error response from daemon: container traefik is not running'));
    const error = await runStep(context(runner), stepOf({ kind: 'traefik-wait-ready', apiPort: 8080, timeout: 0.2 })).catch((e: unknown) => e);
    assert.ok(error instanceof Error, 'the step fails');
  });
});

describe('state-remove', () => {
  test('removes everything in the state folder but the lock, which goes when the lock is released', async () => {
    const script = "if [ -d /home/deploy/.mrsk/app ]; then find /home/deploy/.mrsk/app -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +; fi";
    const runner = new ScriptedRunner().on({ script }, ok());
    await runStep(context(runner), stepOf({ kind: 'state-remove', dir: '.mrsk/app', keep: ['lock'] }));
    assert.equal(runner.calls.length, 1);
    assert.equal(runner.calls[0]!.script, script);
  });
  test('the script, run by a real shell, leaves only the lock folder; a missing folder is fine', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, readdirSync } = await import('node:fs');
    const { execFileSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const home = mkdtempSync(join(tmpdir(), 'mrsk-state-'));
    const dir = join(home, '.mrsk', 'app');
    for (const sub of ['lock', 'env', 'releases', 'cords/app-web-v1']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, 'audit.log'), 'x\n');
    writeFileSync(join(dir, 'env', 'app-web-v1.env'), 'SECRET=1\n');
    const runner = new ScriptedRunner().on({ script: () => true }, (call) => ok(execFileSync('sh', ['-c', call.script!], { encoding: 'utf8' })));
    const ctx = { ...context(runner), homes: { [HOST]: home } };
    await runStep(ctx, stepOf({ kind: 'state-remove', dir: '.mrsk/app', keep: ['lock'] }));
    assert.deepEqual(readdirSync(dir), ['lock']);
    await runStep({ ...ctx, homes: { [HOST]: join(home, 'nowhere') } }, stepOf({ kind: 'state-remove', dir: '.mrsk/app', keep: ['lock'] }));
  });
});

describe('registry-logout', () => {
  test('logs out of the registry; already logged out is fine', async () => {
    const runner = new ScriptedRunner().onArgv(words('docker logout registry.example.com'), fail('Not logged in to registry.example.com'));
    await runStep(context(runner), stepOf({ kind: 'registry-logout', server: 'registry.example.com' }));
    assert.deepEqual(runner.lines(), ['docker logout registry.example.com']);
  });
});
