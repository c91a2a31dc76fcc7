// Steps against a scripted host: each docker command the step sends is answered from a script,
// so the paths that are hard to provoke on a real host (a connection lost mid-wait, a stop that
// fails, an image that cannot be pulled) are pinned here. The e2e suite runs them for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheckError } from '../../../src/apply/health-report.ts';
import { runStep, type StepContext } from '../../../src/apply/steps.ts';
import { DeployError, HostError } from '../../../src/errors.ts';
import type { PlanStep, StepAction } from '../../../src/plan/types.ts';
import { commandToShell } from '../../../src/shell/quote.ts';
import type { Command, ExecResult, Runner } from '../../../src/ssh/types.ts';
import type { TraefikSpec } from '../../../src/desired/types.ts';

const HOST = 'h1';
const NEW_ID = 'a'.repeat(12) + '0'.repeat(52);
const OLD_ID = 'b'.repeat(12) + '0'.repeat(52);
const CHECK = "test -f /run/mrsk/cord/ok && (wget -q -O /dev/null 'http://127.0.0.1:3000/up' || curl -fsS -o /dev/null 'http://127.0.0.1:3000/up')";

type Answer = ExecResult | Error;
type Script = (line: string, calls: number) => Answer | undefined;

/** A Runner that answers each command line from a list of scripts (first that answers wins) and logs the lines. */
function scriptedRunner(scripts: Script[]): Runner & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    async exec(host: string, command: Command): Promise<ExecResult> {
      assert.equal(host, HOST);
      const line = commandToShell(command);
      lines.push(line);
      for (const script of scripts) {
        const answer = script(line, lines.filter((l) => l === line).length);
        if (answer instanceof Error) throw answer;
        if (answer) return answer;
      }
      throw new Error(`unscripted command: ${line}`);
    },
    upload: async () => assert.fail('no upload expected'),
    close: async () => {},
    stats: () => ({}),
  };
}

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string, code = 1): ExecResult => ({ code, stdout: '', stderr });

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
const serving: Script = (line) => {
  if (line === `docker inspect --type container ${OLD_ID}`) return oldContainer;
  if (line === 'docker ps --no-trunc --filter label=mrsk.service=app --filter label=mrsk.role=web --filter status=running -q') return ok(`${NEW_ID}\n${OLD_ID}\n`);
  if (line.includes('/api/http/services/app-web@docker')) return ok(JSON.stringify({ serverStatus: { 'http://172.18.0.2:3000': 'UP' } }));
  if (line === `sh -c 'docker logs --tail 10 ${NEW_ID} 2>&1'`) return ok(Array.from({ length: 12 }, (_, i) => `log ${i + 1}`).join('\n') + '\nsecret-value-123 leaked\n');
  if (line === `docker stop -t 1 ${NEW_ID}`) return ok(NEW_ID);
  if (line === `docker rename ${NEW_ID} app-web-v3_unhealthy_aaaaaaaaaaaa`) return ok();
  return undefined;
};

function context(runner: Runner): StepContext {
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
  const runner = scriptedRunner([(line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('unhealthy') : undefined), serving]);
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
  assert.ok(runner.lines.includes(`docker stop -t 1 ${NEW_ID}`));
  assert.ok(runner.lines.includes(`sh -c 'docker logs --tail 10 ${NEW_ID} 2>&1'`));
});

test('a stop that fails is said so: no "stopped and kept", no rename', async () => {
  const runner = scriptedRunner([
    (line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('unhealthy') : undefined),
    (line) => (line === `docker stop -t 1 ${NEW_ID}` ? fail('Error response from daemon: cannot stop container: permission denied') : undefined),
    serving,
  ]);
  const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}Stopping app-web-v3 failed \(Error response from daemon: cannot stop container: permission denied\): it may still be running; run the command again or stop it by hand\.\n/);
  assert.doesNotMatch(error.message, /was stopped/);
  assert.ok(!runner.lines.some((l) => l.startsWith('docker rename')));
});

test('the old version is checked, not assumed: unhealthy and not routed is said so', async () => {
  const runner = scriptedRunner([
    (line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('unhealthy') : undefined),
    (line) => (line === `docker inspect --type container ${OLD_ID}` ? inspectJson({ id: OLD_ID, name: 'app-web-v2', version: 'v2', running: true, health: 'unhealthy', ip: '172.18.0.2' }) : undefined),
    (line) => (line.includes('/api/http/services/app-web@docker') ? ok(JSON.stringify({ serverStatus: {} })) : undefined),
    serving,
  ]);
  const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}The previous version v2 \(app-web-v2\) is running, but Docker reports it unhealthy and Traefik does not route to it\.$/);
  assert.doesNotMatch(error.message, /keeps serving/);
});

test('a container that exits is reported at once with its exit', async () => {
  const runner = scriptedRunner([(line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('unhealthy', false) : undefined), serving]);
  const started = Date.now();
  const error = (await runStep(context(runner), { ...waitStep, action: { ...waitStep.action, timeout: 30 } as StepAction }).catch((e: unknown) => e)) as Error;
  assert.ok(Date.now() - started < 5000);
  assert.match(error.message, /^h1: app-web-v3 did not become healthy: it exited \(137\)\n/);
});

test('a transient SSH drop during the wait is retried: the container that turns healthy is not stopped', async () => {
  const runner = scriptedRunner([
    (line, calls) => {
      if (line !== 'docker inspect --type container app-web-v3') return undefined;
      if (calls === 1) return newContainer('starting');
      if (calls <= 4) return new HostError(HOST, 'the SSH connection was closed', { kind: 'unreachable' });
      return newContainer('healthy');
    },
    serving,
  ]);
  await runStep(context(runner), { ...waitStep, action: { ...waitStep.action, timeout: 5 } as StepAction });
  assert.ok(!runner.lines.some((l) => l.startsWith('docker stop') || l.startsWith('docker rename')), runner.lines.join('\n'));
});

test('contact lost until the deadline: said so, nothing stopped, not "did not become healthy"', async () => {
  const runner = scriptedRunner([
    (line, calls) => {
      if (line !== 'docker inspect --type container app-web-v3') return undefined;
      return calls === 1 ? newContainer('starting') : new HostError(HOST, 'the SSH connection was closed', { kind: 'unreachable' });
    },
  ]);
  const error = (await runStep(context(runner), waitStep).catch((e: unknown) => e)) as Error;
  assert.ok(error instanceof DeployError && !(error instanceof HealthCheckError));
  assert.equal(
    error.message,
    'h1: lost contact with the host while waiting for app-web-v3 to become healthy (h1: the SSH connection was closed). It was left as it was (last seen: starting); nothing was stopped. Run the command again once the host answers: it continues from there.',
  );
  assert.ok(!runner.lines.some((l) => l.startsWith('docker stop')));
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
  const runner = scriptedRunner([
    (line) => (line === 'docker inspect --type container traefik' ? fail('Error: No such container: traefik') : undefined),
    (line) => (line === "docker image inspect --format '{{.Id}}' registry.invalid/traefik:nope" ? fail('Error: No such image: registry.invalid/traefik:nope') : undefined),
    (line) =>
      line === 'docker pull registry.invalid/traefik:nope'
        ? fail('Error response from daemon: Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host\n')
        : undefined,
  ]);
  const error = (await runStep(context(runner), stepOf({ kind: 'traefik-run', spec: traefikSpec })).catch((e: unknown) => e)) as Error;
  assert.equal(
    error.message,
    'h1: cannot pull the Traefik image registry.invalid/traefik:nope (Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host); set traefik.image in the config to an image this host can pull',
  );
  assert.ok(!runner.lines.some((l) => l.startsWith('docker run')));
});

test("the plan's pull of a new Traefik image (before the old one stops) fails with the same one line", async () => {
  const runner = scriptedRunner([
    (line) => (line === 'docker pull registry.invalid/traefik:nope' ? fail('Error response from daemon: manifest for registry.invalid/traefik:nope not found: manifest unknown\n') : undefined),
  ]);
  const step = { ...stepOf({ kind: 'image-pull', image: 'registry.invalid/traefik:nope' }), address: `${HOST}/traefik` };
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.equal(
    error.message,
    'h1: cannot pull the Traefik image registry.invalid/traefik:nope (manifest for registry.invalid/traefik:nope not found: manifest unknown); set traefik.image in the config to an image this host can pull',
  );
});

test('a container that was running before this run (a repair) is reported but left running, not marked', async () => {
  const runner = scriptedRunner([(line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('unhealthy') : undefined), serving]);
  const step = { ...waitStep, action: { ...waitStep.action, existing: 'running' } as StepAction };
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}app-web-v3 was left running, as it was before this run\.\n/);
  assert.ok(!runner.lines.some((l) => l.startsWith('docker stop') || l.startsWith('docker rename')));
});

test('a retained container started again (rollback) that fails is stopped again, not marked', async () => {
  const runner = scriptedRunner([(line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('unhealthy') : undefined), serving]);
  const step = { ...waitStep, action: { ...waitStep.action, existing: 'stopped' } as StepAction };
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.match(error.message, /\n {2}app-web-v3 was stopped\.\n/);
  assert.ok(runner.lines.includes(`docker stop -t 1 ${NEW_ID}`));
  assert.ok(!runner.lines.some((l) => l.startsWith('docker rename')));
});

/** inspect of a running container whose cord folder is bind-mounted from the host. */
function withCordMount(result: ExecResult, hostDir: string): ExecResult {
  const [doc] = JSON.parse(result.stdout) as Record<string, unknown>[];
  return ok(JSON.stringify([{ ...doc, Mounts: [{ Type: 'bind', Source: hostDir, Destination: '/run/mrsk/cord' }] }]));
}

test('restoring a running container\'s cord: the mounted folder is made again and the file restored from inside too, no restart', async () => {
  const dir = '/home/deploy/.mrsk/app/cords/app-web-v3-0123456789ab';
  const runner = scriptedRunner([
    (line) => (line === `docker inspect --type container ${NEW_ID}` ? withCordMount(newContainer('unhealthy'), dir) : undefined),
    (line) => (line === `sh -c 'mkdir -p ${dir} && touch ${dir}/ok'` ? ok() : undefined),
    (line) => (line === `docker exec ${NEW_ID} touch /run/mrsk/cord/ok` ? ok() : undefined),
  ]);
  const step = { ...stepOf({ kind: 'container-start', containerId: NEW_ID, name: 'app-web-v3', cordDir: '.mrsk/app/cords/app-web-v3-0123456789ab' }), precondition: { containerId: NEW_ID } };
  await runStep(context(runner), step);
  assert.deepEqual(runner.lines.slice(1), [`sh -c 'mkdir -p ${dir} && touch ${dir}/ok'`, `docker exec ${NEW_ID} touch /run/mrsk/cord/ok`]);
});

test('a drain cuts the cord on the host and from inside the container', async () => {
  const dir = '/home/deploy/.mrsk/app/cords/app-web-v2-0123456789ab';
  const runner = scriptedRunner([
    (line) => (line === `docker inspect --type container ${OLD_ID}` ? withCordMount(oldContainer, dir) : undefined),
    (line) => (line === `sh -c 'rm -f ${dir}/ok'` ? ok() : undefined),
    (line) => (line === `docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok` ? ok() : undefined),
    (line) => (line.includes('/api/http/services/app-web@docker') ? ok(JSON.stringify({ serverStatus: { 'http://172.18.0.3:3000': 'UP' } })) : undefined),
  ]);
  const step = {
    ...stepOf({ kind: 'container-drain', containerId: OLD_ID, name: 'app-web-v2', service: 'app-web', cordDir: '.mrsk/app/cords/x', apiPort: 8080, timeout: 1 }),
    precondition: { containerId: OLD_ID },
  };
  await runStep(context(runner), step);
  assert.deepEqual(runner.lines.slice(1, 3), [`sh -c 'rm -f ${dir}/ok'`, `docker exec ${OLD_ID} rm -f /run/mrsk/cord/ok`]);
});

test('Traefik never routed because it is not running: said so, with the command that restores it', async () => {
  const runner = scriptedRunner([
    (line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('healthy') : undefined),
    (line) => (line.includes('/api/http/services/app-web@docker') ? fail('Error response from daemon: Container traefik is not running') : undefined),
    (line) =>
      line === 'docker inspect --type container traefik'
        ? ok(JSON.stringify([{ Id: 'c'.repeat(64), Name: '/traefik', State: { Status: 'exited', Running: false, ExitCode: 137 }, Config: { Labels: {} }, NetworkSettings: { Networks: {} } }]))
        : undefined,
    serving,
    (line) => (line === `docker stop -t 1 ${NEW_ID}` ? ok() : undefined),
  ]);
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
  const runner = scriptedRunner([
    (line) => (line === `docker inspect --type container ${NEW_ID}` ? withCordMount(newContainer('unhealthy'), dir) : undefined),
    (line) => (line === `sh -c 'mkdir -p ${dir} && touch ${dir}/ok'` ? ok() : undefined),
    (line) => (line === `docker exec ${NEW_ID} touch /run/mrsk/cord/ok` ? fail("touch: /run/mrsk/cord/ok: No such file or directory") : undefined),
    (line) => (line === `docker restart -t 10 ${NEW_ID}` ? ok(NEW_ID) : undefined),
  ]);
  const step = { ...stepOf({ kind: 'container-start', containerId: NEW_ID, name: 'app-web-v3', cordDir: '.mrsk/app/cords/app-web-v3-0123456789ab' }), precondition: { containerId: NEW_ID } };
  await runStep(context(runner), step);
  assert.equal(runner.lines.at(-1), `docker restart -t 10 ${NEW_ID}`);
});

test('the connection drops while waiting for Traefik to route: lost contact is said, nothing is stopped or claimed', async () => {
  const runner = scriptedRunner([
    (line) => (line === 'docker inspect --type container app-web-v3' ? newContainer('healthy') : undefined),
    (line) => (line.includes('/api/http/services/app-web@docker') ? new HostError(HOST, 'the SSH connection was closed') : undefined),
  ]);
  const step = stepOf({ kind: 'traefik-wait-up', name: 'app-web-v3', service: 'app-web', apiPort: 8080, timeout: 5 });
  const error = (await runStep(context(runner), step).catch((e: unknown) => e)) as Error;
  assert.ok(error instanceof HostError, String(error));
  assert.equal(error.message, 'h1: lost contact with the host while waiting for Traefik to route to app-web-v3 (the SSH connection was closed); nothing was stopped');
  assert.ok(!runner.lines.some((line) => line.startsWith('docker stop')), 'nothing is stopped');
});
