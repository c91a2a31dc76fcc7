// diff(desired, snapshot): the order and content of plan steps, case by case. The golden tests
// pin the whole output; these name the rules the output must follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { executePlan } from '../../../src/apply/executor.ts';
import type { Plan, PlanStep } from '../../../src/plan/types.ts';
import { scenarios, type Scenario } from '../helpers/scenarios.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';
const byName = new Map(scenarios().map((s) => [s.name, s]));

function planOf(name: string): Plan {
  const scenario: Scenario | undefined = byName.get(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  return diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
}

const onHost = (plan: Plan, host: string): PlanStep[] => plan.steps.filter((step) => step.host === host);
const kinds = (steps: readonly PlanStep[]): string[] => steps.map((step) => `${step.action.kind} ${'name' in step.action ? step.action.name : 'spec' in step.action ? step.action.spec.name : ''}`.trim());

test('first deploy: network, traefik, pull, run, wait healthy, wait routed, then job, then release', () => {
  const plan = planOf('first-deploy');
  assert.deepEqual(kinds(onHost(plan, H1)), [
    'network-create',
    'traefik-run traefik',
    'image-pull',
    'container-run app-web-v1',
    'container-wait-healthy app-web-v1',
    'traefik-wait-up app-web-v1',
    'container-run app-job-v1',
    'container-wait-healthy app-job-v1',
    'release-record',
  ]);
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const routed = byId.get(`${H1}:web:traefik-wait`)!;
  assert.deepEqual(routed.dependsOn, [`${H1}:web:wait`, `${H1}:traefik:run`], 'routing is awaited only once traefik runs');
  assert.deepEqual(byId.get(`${H1}:job:run`)!.dependsOn, [`${H1}:web:wait`, `${H1}:web:pull`, `${H1}:network`], 'the job starts once web is healthy and reuses the pull');
  assert.deepEqual(byId.get(`${H1}:web:run`)!.precondition, { absentName: 'app-web-v1' });
  assert.ok(plan.steps.every((s) => s.symbol === '+' && s.actions.join() === 'create'));
  assert.equal(plan.blockedHosts.length, 0);
});

test('new version: web is start-first (+/-): new serves before the old is drained and stopped', () => {
  const steps = onHost(planOf('new-version'), H1);
  assert.deepEqual(kinds(steps), [
    'image-pull',
    'container-run app-web-v2',
    'container-wait-healthy app-web-v2',
    'traefik-wait-up app-web-v2',
    'container-drain app-web-v1',
    'container-stop app-web-v1',
    'container-run app-job-v2',
    'container-wait-healthy app-job-v2',
    'container-stop app-job-v1',
    'release-record',
  ]);
  const drain = steps.find((s) => s.action.kind === 'container-drain')!;
  assert.deepEqual(drain.dependsOn, [`${H1}:web:traefik-wait`]);
  assert.equal(drain.address, `${H1}/container/app-web-v2`, 'the old container is part of the replace');
  assert.equal(drain.symbol, '+/-');
  assert.deepEqual(drain.actions, ['create', 'delete']);
  assert.equal(drain.cause, 'new version v1 → v2');
  assert.ok(drain.precondition.containerId, 'steps on existing containers name the container they expect');
  if (drain.action.kind === 'container-drain') {
    assert.equal(drain.action.cordDir, deriveDesired(byName.get('new-version')!.config, 'v1').hosts[H1]!.containers[0]!.cordDir, 'the old container\'s own cord folder');
    assert.equal(drain.action.service, 'app-web');
  }
});

// The next role's gate is the previous role's health wait: a version that never turns healthy
// starts no other role, while Traefik's pick-up of a healthy one overlaps the next role's start.
// The real plan runs through the executor with a stand-in for each step.
async function runNewVersion(failing: string, plan = planOf('new-version')) {
  const started: string[] = [];
  const result = await executePlan({
    runner: { exec: async () => assert.fail('no command'), upload: async () => assert.fail('no upload'), close: async () => {}, stats: () => ({}) },
    secrets: [],
    plan,
    service: 'app',
    homes: {},
    appliedBy: 'test@here',
    onEvent: () => {},
    stepRunner: async (_ctx, step) => {
      started.push(step.id);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (step.id === failing) throw new Error(`${failing} failed`);
    },
  });
  return { result, started: (host: string) => started.filter((id) => id.startsWith(`${host}:`)) };
}

test('new version, web never healthy: the job keeps its old container, and the old web is never drained', async () => {
  const { result, started } = await runNewVersion(`${H1}:web:wait`);
  assert.equal(result.ok, false);
  assert.deepEqual(started(H1), [`${H1}:web:pull`, `${H1}:web:run`, `${H1}:web:wait`]);
  assert.equal(result.statuses[`${H1}:job:run`], 'skipped');
});

test('new version, web healthy but never routed: the job moves on (its gate is health), the old web keeps serving', async () => {
  const plan = planOf('new-version');
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  assert.ok(byId.get(`${H1}:job:run`)!.dependsOn.includes(`${H1}:web:wait`));
  assert.ok(!byId.get(`${H1}:job:run`)!.dependsOn.includes(`${H1}:web:traefik-wait`), 'Traefik\'s pick-up overlaps the job\'s start');
  const { result, started } = await runNewVersion(`${H1}:web:traefik-wait`);
  assert.equal(result.ok, false);
  const h1 = started(H1);
  assert.ok(h1.includes(`${H1}:job:run`) && h1.indexOf(`${H1}:job:run`) > h1.indexOf(`${H1}:web:wait`));
  assert.ok(!h1.some((id) => id.includes('app-web-v1')), `the old web is neither drained nor stopped: ${h1.join(', ')}`);
  assert.equal(result.statuses[`${H1}:release`], 'skipped', 'no release is recorded for a failed deploy');
});

/** The new-version scenario with boot.parallel_roles. */
function parallelNewVersion(): Plan {
  const scenario = byName.get('new-version')!;
  const config = { ...scenario.config, boot: { ...scenario.config.boot, parallelRoles: true } };
  return diff(deriveDesired(config, scenario.version), scenario.snapshot, scenario.options);
}

test('boot.parallel_roles: every role on a host starts at once; each role\'s own cutover is unchanged', () => {
  const plan = parallelNewVersion();
  const sequential = planOf('new-version');
  assert.deepEqual(plan.steps.map((s) => s.id), sequential.steps.map((s) => s.id), 'the same steps, only their order differs');
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  assert.deepEqual(byId.get(`${H1}:job:run`)!.dependsOn, [`${H1}:web:pull`], 'the job waits only for the image');
  assert.deepEqual(byId.get(`${H1}:web:run`)!.dependsOn, [`${H1}:web:pull`]);
  const drain = plan.steps.find((s) => s.host === H1 && s.action.kind === 'container-drain')!;
  assert.deepEqual(drain.dependsOn, [`${H1}:web:traefik-wait`], 'the old web still leaves only once the new one is routed');
  const jobStop = plan.steps.find((s) => s.host === H1 && s.action.kind === 'container-stop' && s.action.name === 'app-job-v1')!;
  assert.deepEqual(jobStop.dependsOn, [`${H1}:job:wait`], 'the old job still leaves only once the new one is ready');
});

test('boot.parallel_roles, web never healthy: the job moves to the new version anyway, the old web keeps serving, no release is recorded', async () => {
  const { result, started } = await runNewVersion(`${H1}:web:wait`, parallelNewVersion());
  assert.equal(result.ok, false);
  const h1 = started(H1);
  assert.ok(h1.includes(`${H1}:job:run`) && h1.some((id) => id.includes('app-job-v1')), `the job's cutover ran: ${h1.join(', ')}`);
  assert.ok(!h1.some((id) => id.includes('app-web-v1')), `the old web is neither drained nor stopped: ${h1.join(', ')}`);
  assert.equal(result.statuses[`${H1}:release`], 'skipped');
});

test('a changed secret at the same version is start-first too: the running container is renamed aside, then drained, stopped and removed', () => {
  const steps = onHost(planOf('env-secret-change'), H1);
  const web = steps.filter((s) => s.address === `${H1}/container/app-web-v1`);
  const host = byName.get('env-secret-change')!.snapshot.hosts[H1]!;
  assert.ok(host.status === 'ok');
  const oldWeb = host.containers.find((c) => c.name === 'app-web-v1')!;
  const renamed = `app-web-v1_replaced_${oldWeb.id.slice(0, 12)}`;
  assert.deepEqual(kinds(web), [
    'container-run app-web-v1',
    'container-wait-healthy app-web-v1',
    'traefik-wait-up app-web-v1',
    `container-drain ${renamed}`,
    `container-stop ${renamed}`,
    `container-remove ${renamed}`,
  ]);
  const run = web[0]!;
  assert.ok(run.action.kind === 'container-run');
  assert.deepEqual(run.action.replaces, { containerId: oldWeb.id, renameTo: renamed });
  assert.deepEqual(run.precondition, { containerId: oldWeb.id }, 'the run expects the old container to still hold the name');
  assert.ok(web.every((s) => s.symbol === '+/-' && s.cause === 'env DATABASE_URL changed (value hidden)'));
  assert.deepEqual(run.changes, [{ subject: 'env DATABASE_URL', hidden: true }]);
  const drain = web[3]!;
  if (drain.action.kind === 'container-drain') assert.equal(drain.action.cordDir, `.mrsk/app/cords/app-web-v1-${oldWeb.labels['mrsk.spec-hash']!.slice(3, 15)}`, 'the old cord, not the new one');
  assert.notEqual(run.action.spec.cordDir, (drain.action as { cordDir: string }).cordDir);
});

test('a changed clear value shows old → new', () => {
  const web = onHost(planOf('env-clear-change'), H1).find((s) => s.address === `${H1}/container/app-web-v1`)!;
  assert.equal(web.cause, 'env FEATURE_X added, env RAILS_LOG_LEVEL changed');
  assert.deepEqual(web.changes, [
    { subject: 'env FEATURE_X', after: 'on' },
    { subject: 'env RAILS_LOG_LEVEL', before: 'info', after: 'debug' },
  ]);
});

test('a cmd change replaces only the job container', () => {
  const plan = planOf('job-cmd-change');
  assert.deepEqual([...new Set(plan.steps.map((s) => s.address))], [`${H1}/container/app-job-v1`, `${H1}/release`]);
  // a string cmd is argv words (Kamal's meaning), so the cause shows the words
  assert.match(plan.steps[0]!.cause, /^cmd bin\/jobs → bin\/jobs --queue critical$/);
});

test('drift: the target container exited outside mrsk is started again (~), with the cause seen', () => {
  const plan = planOf('drift-exited');
  assert.deepEqual(kinds(plan.steps), ['container-start app-web-v1', 'container-wait-healthy app-web-v1', 'traefik-wait-up app-web-v1']);
  assert.ok(plan.steps.every((s) => s.symbol === '~' && s.cause === 'container exited (1)'));
  const start = plan.steps[0]!;
  const spec = deriveDesired(byName.get('drift-exited')!.config, 'v1').hosts[H1]!.containers[0]!;
  if (start.action.kind === 'container-start') assert.equal(start.action.cordDir, spec.cordDir, 'the cord is restored on start');
});

test('drift: a running but unhealthy target gets its cord back and must turn healthy and routed again', () => {
  const plan = planOf('drift-unhealthy');
  assert.deepEqual(kinds(plan.steps), ['container-start app-web-v1', 'container-wait-healthy app-web-v1', 'traefik-wait-up app-web-v1']);
  assert.ok(plan.steps.every((s) => s.symbol === '~' && s.cause === 'container unhealthy'));
});

test('two running versions of a role: the extra one is drained and stopped (-)', () => {
  const plan = planOf('two-running-versions');
  assert.deepEqual(kinds(plan.steps), ['container-drain app-web-v1', 'container-stop app-web-v1']);
  assert.ok(plan.steps.every((s) => s.symbol === '-' && s.address === `${H1}/container/app-web-v1`));
});

test('a role removed from the config: its running container is stopped; a removed host is destroyed', () => {
  assert.deepEqual(kinds(planOf('role-removed').steps), ['container-stop app-job-v1', 'release-record']);
  const removed = planOf('host-removed');
  assert.deepEqual(kinds(removed.steps), ['container-drain app-web-v1', 'container-stop app-web-v1', 'container-remove app-web-v1', 'image-remove']);
  assert.ok(removed.steps.every((s) => s.host === H2 && s.symbol === '-'));
});

test('traefik missing → run (+); stopped or different → replace stop-first (-/+) with the cause', () => {
  assert.deepEqual(kinds(planOf('traefik-missing').steps), ['traefik-run traefik']);
  const stopped = planOf('traefik-stopped').steps;
  assert.deepEqual(kinds(stopped), ['container-remove traefik', 'traefik-run traefik']);
  assert.equal(stopped[0]!.cause, 'traefik exited (0)');
  assert.ok(stopped.every((s) => s.symbol === '-/+' && s.actions.join() === 'delete,create'));
  const changed = onHost(planOf('traefik-changed'), H1);
  // the new image is pulled while the old Traefik still routes: a pull that fails stops nothing
  assert.deepEqual(kinds(changed), ['image-pull', 'container-stop traefik', 'container-remove traefik', 'traefik-run traefik', 'release-record']);
  assert.deepEqual(changed[1]!.dependsOn, [`${H1}:traefik:pull`]);
  assert.equal(changed[0]!.cause, 'traefik image traefik:v3.5 → traefik:v3.6, args changed (added --log.level=INFO --accesslog; removed --log.level=DEBUG)');
});

test('a missing network is created, on that host only', () => {
  const plan = planOf('network-missing');
  assert.deepEqual(kinds(plan.steps), ['network-create']);
  assert.equal(plan.steps[0]!.host, H2);
});

test('retention: the oldest stopped containers beyond retain_containers go, then their image', () => {
  const steps = onHost(planOf('retention'), H1);
  assert.deepEqual(kinds(steps), ['container-remove app-web-v1', 'container-remove app-job-v1', 'image-remove'], 'pruning alone needs no new release record');
  const image = steps[2]!;
  assert.deepEqual(image.dependsOn, [`${H1}:container:app-web-v1:remove`, `${H1}:container:app-job-v1:remove`]);
  if (image.action.kind === 'image-remove') assert.equal(image.action.image, 'registry.example.com/acme/app:v1');
});

test('an unreachable host is blocked with its reason; the other hosts are still planned', () => {
  const plan = planOf('host-unreachable');
  assert.deepEqual(plan.blockedHosts, [{ host: H2, status: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.3:22' }]);
  assert.ok(plan.steps.length > 0 && plan.steps.every((s) => s.host === H1));
});

test('--hosts and --roles filters limit the plan', () => {
  assert.deepEqual([...new Set(planOf('filter-hosts').steps.map((s) => s.host))], [H2]);
  const roles = planOf('filter-roles');
  assert.ok(roles.steps.every((s) => s.host === H1));
  assert.deepEqual(kinds(roles.steps), ['image-pull', 'container-run app-job-v2', 'container-wait-healthy app-job-v2', 'container-stop app-job-v1', 'release-record']);
});

test('--roles leaves a removed role alone only on hosts where a configured role is filtered out', async () => {
  const { makeConfig, makeRole } = await import('../helpers/config.ts');
  const { deployedSnapshot } = await import('../helpers/snapshot.ts');
  const withWorker = makeConfig({ roles: [...byName.get('new-version')!.config.roles, makeRole('worker', { hosts: [H1, H2], cmd: ['bin/worker'] })] });
  const config = byName.get('new-version')!.config; // web on h1+h2, job on h1; worker dropped
  const snapshot = deployedSnapshot(withWorker, 'v1');
  const plan = diff(deriveDesired(config, 'v1'), snapshot, { roles: ['web'] });
  const stopped = plan.steps.filter((s) => s.action.kind === 'container-stop').map((s) => `${s.host} ${'name' in s.action ? s.action.name : ''}`);
  assert.deepEqual(stopped, [`${H2} app-worker-v1`], 'h1 also runs job, which --roles web excludes, so its worker stays');
  const unfiltered = diff(deriveDesired(config, 'v1'), snapshot);
  assert.deepEqual(unfiltered.steps.filter((s) => s.action.kind === 'container-stop').map((s) => s.host), [H1, H2]);
});

test('batches from boot.limit number the steps of each host', () => {
  const plan = planOf('batches');
  const batchOf = Object.fromEntries(plan.steps.map((s) => [s.host, s.batch]));
  assert.deepEqual(batchOf, { 'h1.example.com': 0, 'h2.example.com': 0, 'h3.example.com': 1, 'h4.example.com': 1, 'h5.example.com': 2 });
  assert.equal(plan.batchWait, 10);
});

test('a stopped container holding the target name with another spec is removed before the run', () => {
  const steps = onHost(planOf('stale-same-name'), H1);
  const remove = steps.findIndex((s) => s.action.kind === 'container-remove' && s.action.name === 'app-web-v2');
  const run = steps.findIndex((s) => s.action.kind === 'container-run' && s.action.spec.name === 'app-web-v2');
  assert.ok(remove >= 0 && remove < run);
  assert.ok(steps[run]!.dependsOn.includes(steps[remove]!.id));
  assert.equal(steps[run]!.cause, 'new version v1 → v2; the stopped app-web-v2 differs (env RAILS_LOG_LEVEL changed)');
  assert.equal(steps[run]!.symbol, '+/-', 'v1 keeps serving while the leftover is replaced');
});

test('foreign containers (other service, other destination, unlabelled) are never touched', () => {
  const plan = planOf('foreign-containers');
  const touched = plan.steps.flatMap((s) => ('name' in s.action ? [s.action.name] : []));
  assert.ok(!touched.some((name) => name.startsWith('other-') || name.includes('staging') || name === 'postgres'));
});

test('a container named traefik that mrsk does not manage blocks that host only', () => {
  const plan = planOf('traefik-squatter');
  assert.equal(plan.blockedHosts.length, 1);
  assert.equal(plan.blockedHosts[0]!.host, H1);
  assert.match(plan.blockedHosts[0]!.message, /named traefik exists that mrsk does not manage/);
  assert.ok(plan.steps.every((s) => s.host === H2));
});

test('deployed hosts that match the config give an empty plan', () => {
  const plan = planOf('no-changes');
  assert.deepEqual(plan.steps, []);
  assert.deepEqual(plan.blockedHosts, []);
});
