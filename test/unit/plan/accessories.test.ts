// Accessories in the planner (src/plan/diff.ts): golden plans (fixtures/plans/accessory-*.txt|json,
// UPDATE_GOLDEN=1 rewrites them) and the rules that keep a database's data safe: no app intent
// touches an accessory container, a changed accessory is pending (never replaced implicitly),
// reboot keeps its data folders, data goes only with removeData, and a run re-planned is empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessoryConfig, Config } from '../../../src/config/types.ts';
import { accessorySpecFor } from '../../../src/desired/accessory.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import type { PlanRequest } from '../../../src/plan/request.ts';
import { selectHosts } from '../../../src/config/select.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ReachableHost, Snapshot } from '../../../src/probe/types.ts';
import { planToJson, renderPlan } from '../../../src/views/plan.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, reachableHost, snapshotOf } from '../helpers/snapshot.ts';
import { golden } from '../helpers/golden.ts';


const redisConfig = (overrides: Partial<AccessoryConfig> = {}): AccessoryConfig => ({
  name: 'redis',
  image: 'redis:7',
  hosts: ['h1'],
  port: '127.0.0.1:6379:6379',
  cmd: 'redis-server --appendonly yes',
  env: makeEnv({ REDIS_MAXMEMORY: '64mb' }),
  volumes: [],
  labels: {},
  options: {},
  files: [{ local: 'config/redis.conf', localPath: '/project/config/redis.conf', remote: '/usr/local/etc/redis/redis.conf', mode: '0640', hash: `sha256:${'a'.repeat(64)}` }],
  directories: [{ local: 'data', remote: '/data' }],
  ...overrides,
});

const dbConfig: AccessoryConfig = {
  name: 'db',
  image: 'postgres:16',
  hosts: ['d1'],
  env: makeEnv({}, { POSTGRES_PASSWORD: 'pg-secret-value' }),
  volumes: [],
  labels: {},
  options: { 'health-cmd': 'pg_isready' },
  files: [],
  directories: [{ local: '/srv/pg', remote: '/var/lib/postgresql/data' }],
};

const configWith = (accessories: readonly AccessoryConfig[]): Config => makeConfig({ roles: [makeRole('web', { hosts: ['h1'] })], accessories });
const CONFIG = configWith([redisConfig(), dbConfig]);
const V1 = 'v1';
const V2 = 'v2';

/** A deployed app with both accessories running (as apply leaves it). */
function deployed(config: Config = CONFIG): Snapshot {
  const empty = snapshotOf(reachableHost('h1'), reachableHost('d1'));
  return deployedSnapshot(config, V1, empty);
}

function withAccessoryState(snapshot: Snapshot, host: string, name: string, state: 'exited' | 'running'): Snapshot {
  const h = snapshot.hosts[host] as ReachableHost;
  return {
    ...snapshot,
    hosts: { ...snapshot.hosts, [host]: { ...h, containers: h.containers.map((c) => (c.labels['mrsk.accessory'] === name ? { ...c, state, exitCode: state === 'exited' ? 0 : c.exitCode } : c)) } },
  };
}

const accessoryContainerIds = (snapshot: Snapshot): Set<string> =>
  new Set(Object.values(snapshot.hosts).flatMap((h) => (h.status === 'ok' ? h.containers.filter((c) => c.labels['mrsk.accessory']).map((c) => c.id) : [])));

const planOf = (config: Config, version: string, snapshot: Snapshot, request: PlanRequest = {}): Plan => diff(deriveDesired(config, version), snapshot, request);

function checkGolden(name: string, plan: Plan): void {
  golden(`accessory-${name}.txt`, renderPlan(plan, { color: false, verbose: true }));
  golden(`accessory-${name}.json`, `${JSON.stringify(planToJson(plan), null, 2)}\n`);
  for (const step of plan.steps) assert.ok(step.dependsOn.every((d) => plan.steps.some((o) => o.id === d)), `${step.id} waits for a step that is not planned`);
}

test('first boot (apply on fresh hosts): accessories before the app, the accessory-only host too; planning again is empty', () => {
  const empty = snapshotOf(reachableHost('h1'), reachableHost('d1'));
  const plan = planOf(CONFIG, V1, empty);
  checkGolden('first-boot', plan);
  const redisRun = plan.steps.find((s) => s.id === 'h1:accessory:redis:run')!;
  assert.ok(redisRun.dependsOn.includes('h1:accessory:redis:prepare'), 'files and folders are there before it runs');
  const prepare = plan.steps.find((s) => s.id === 'h1:accessory:redis:prepare')!;
  assert.deepEqual(prepare.action, {
    kind: 'accessory-prepare',
    name: 'redis',
    directories: ['.mrsk/app/accessories/redis/data/data'],
    files: [{ localPath: '/project/config/redis.conf', hostPath: '.mrsk/app/accessories/redis/files/usr/local/etc/redis/redis.conf', remote: '/usr/local/etc/redis/redis.conf', mode: '0640', hash: `sha256:${'a'.repeat(64)}` }],
  });
  const appRun = plan.steps.find((s) => s.action.kind === 'container-run')!;
  assert.ok(appRun.dependsOn.includes('h1:accessory:redis:run'), 'the app starts once its accessory runs');
  assert.deepEqual(plan.steps.filter((s) => s.host === 'd1').map((s) => s.action.kind), ['image-pull', 'network-create', 'accessory-prepare', 'accessory-run', 'container-wait-healthy']);
  assert.ok(!JSON.stringify(plan).includes('pg-secret-value'), 'no secret value in the plan');
  const again = planOf(CONFIG, V1, simulate(empty, plan));
  assert.deepEqual(again.steps.map((s) => s.id), []);
  assert.equal(again.pending, undefined);
});

test('a stopped accessory is started (not replaced), by apply and by accessory boot', () => {
  const snapshot = withAccessoryState(deployed(), 'h1', 'redis', 'exited');
  const plan = planOf(CONFIG, V1, snapshot);
  checkGolden('stopped-start', plan);
  assert.deepEqual(plan.steps.map((s) => s.id), ['h1:accessory:redis:start']);
  const boot = planOf(CONFIG, V1, snapshot, { target: 'accessory', accessories: ['redis'] });
  assert.deepEqual(boot.steps.map((s) => s.id), ['h1:accessory:redis:start']);
  assert.deepEqual(planOf(CONFIG, V1, simulate(snapshot, plan)).steps, []);
});

test('a changed accessory is pending with the command that applies it; no step touches it', () => {
  const changed = configWith([redisConfig({ image: 'redis:7.2', env: makeEnv({ REDIS_MAXMEMORY: '128mb' }) }), dbConfig]);
  const snapshot = deployed();
  for (const request of [{}, { target: 'accessory', accessories: ['redis'] }] as const) {
    const plan = planOf(changed, V1, snapshot, request);
    assert.deepEqual(plan.steps, []);
    assert.deepEqual(plan.pending, [
      { host: 'h1', address: 'h1/accessory/redis', cause: 'accessory redis: env REDIS_MAXMEMORY; image "redis:7" → "redis:7.2"', command: 'mrsk accessory reboot redis' },
    ]);
  }
  const plan = planOf(changed, V1, snapshot);
  checkGolden('changed-pending', plan);
  const text = renderPlan(plan, { color: false });
  assert.ok(text.startsWith('Not changed by this plan:\n  h1/accessory/redis: accessory redis: env REDIS_MAXMEMORY; image'), text);
  assert.ok(text.includes('\n    run: mrsk accessory reboot redis\n'), text);
  assert.ok(text.endsWith('No changes planned; 1 difference above is left as it is. (app version v1)\n'), text);
});

test('deploy (skip accessories) of a new version never touches an accessory, even a stopped or changed one', () => {
  const changed = configWith([redisConfig({ image: 'redis:8' }), dbConfig]);
  const snapshot = withAccessoryState(deployed(), 'd1', 'db', 'exited');
  const ids = accessoryContainerIds(snapshot);
  assert.equal(ids.size, 2);
  for (const config of [CONFIG, changed]) {
    const plan = planOf(config, V2, snapshot, { skip: ['accessories'] });
    assert.ok(plan.steps.some((s) => s.action.kind === 'container-run'), 'the app is deployed');
    assert.deepEqual(plan.steps.filter((s) => s.address.includes('/accessory/') || ids.has(s.precondition.containerId ?? '')), []);
    assert.equal(plan.pending, undefined);
  }
  checkGolden('deploy-skips', planOf(changed, V2, snapshot, { skip: ['accessories'] }));
});

test('no app intent touches an accessory container (prune, app stop, restore-release, app converge)', () => {
  const snapshot = deployed();
  const ids = accessoryContainerIds(snapshot);
  const requests: PlanRequest[] = [{ mode: 'prune' }, { mode: 'stop' }, { mode: 'restart' }, { mode: 'restore-release' }, { roles: ['web'] }];
  for (const request of requests) {
    const plan = planOf(CONFIG, V2, snapshot, request);
    assert.deepEqual(plan.steps.filter((s) => ids.has(s.precondition.containerId ?? '')).map((s) => s.id), [], JSON.stringify(request));
  }
  // an accessory that is no longer in the config is not "a container of a removed role"
  const plan = planOf(configWith([]), V2, snapshot, { skip: ['accessories'] });
  assert.deepEqual(plan.steps.filter((s) => ids.has(s.precondition.containerId ?? '')).map((s) => s.id), []);
});

test('reboot (replace) is stop-first and keeps the data folders; planning it again after the run is empty', () => {
  const changed = configWith([redisConfig({ image: 'redis:7.2' }), dbConfig]);
  const snapshot = deployed();
  const request: PlanRequest = { target: 'accessory', accessories: ['redis'], replace: ['h1/accessory/redis'] };
  const plan = planOf(changed, V1, snapshot, request);
  checkGolden('reboot', plan);
  assert.deepEqual(plan.steps.map((s) => s.action.kind), ['image-pull', 'container-stop', 'container-remove', 'accessory-prepare', 'accessory-run']);
  assert.equal(plan.steps[0]!.symbol, '-/+');
  assert.equal(plan.steps.filter((s) => s.action.kind === 'accessory-data-remove').length, 0, 'reboot keeps the data');
  assert.deepEqual(planOf(changed, V1, simulate(snapshot, plan), { target: 'accessory', accessories: ['redis'] }).steps, []);
});

test('accessory remove: container and image; data only with removeData, else listed as kept', () => {
  const snapshot = deployed();
  const keep = planOf(CONFIG, V1, snapshot, { mode: 'destroy', target: 'accessory', accessories: ['redis'] });
  checkGolden('remove', keep);
  assert.deepEqual(keep.steps.map((s) => s.action.kind), ['container-stop', 'container-remove', 'image-remove']);
  assert.deepEqual(keep.pending?.map((p) => p.command), ['mrsk accessory remove redis --data']);
  const data = planOf(CONFIG, V1, snapshot, { mode: 'destroy', target: 'accessory', accessories: ['db'], removeData: true });
  checkGolden('remove-data', data);
  const remove = data.steps.find((s) => s.action.kind === 'accessory-data-remove')!;
  assert.deepEqual(remove.action, { kind: 'accessory-data-remove', name: 'db', dirs: ['.mrsk/app/accessories/db', '/srv/pg'] });
  assert.equal(data.pending, undefined);
});

test('mrsk remove takes the accessories with it; their data folder stays unless removeData', () => {
  const snapshot = deployed();
  const plan = planOf(CONFIG, V1, snapshot, { mode: 'destroy' });
  checkGolden('app-remove', plan);
  const ids = accessoryContainerIds(snapshot);
  assert.equal(plan.steps.filter((s) => s.action.kind === 'container-remove' && ids.has(s.action.containerId)).length, 2);
  const state = plan.steps.filter((s) => s.action.kind === 'state-remove').map((s) => s.action);
  assert.ok(state.every((a) => a.kind === 'state-remove' && a.keep.includes('accessories')));
  assert.deepEqual(plan.pending?.map((p) => p.address), ['h1/accessory/redis/data', 'd1/accessory/db/data']);
  const withData = planOf(CONFIG, V1, snapshot, { mode: 'destroy', removeData: true });
  assert.ok(withData.steps.filter((s) => s.action.kind === 'state-remove').every((s) => s.action.kind === 'state-remove' && !s.action.keep.includes('accessories')));
  assert.equal(withData.steps.filter((s) => s.action.kind === 'accessory-data-remove').length, 2);
});

test('accessory start / stop / restart act on the existing container; a missing one blocks the host', () => {
  const snapshot = deployed();
  assert.deepEqual(planOf(CONFIG, V1, snapshot, { mode: 'stop', target: 'accessory', accessories: ['redis'] }).steps.map((s) => s.id), ['h1:accessory:redis:stop']);
  assert.deepEqual(planOf(CONFIG, V1, snapshot, { mode: 'start', target: 'accessory', accessories: ['redis'] }).steps, []);
  assert.deepEqual(planOf(CONFIG, V1, snapshot, { mode: 'restart', target: 'accessory', accessories: ['db'] }).steps.map((s) => s.id), ['d1:accessory:db:stop', 'd1:accessory:db:start', 'd1:accessory:db:wait']);
  const empty = snapshotOf(reachableHost('h1'), reachableHost('d1'));
  const blocked = planOf(CONFIG, V1, empty, { mode: 'start', target: 'accessory', accessories: ['redis'] });
  assert.deepEqual(blocked.blockedHosts, [{ host: 'h1', status: 'error', message: 'accessory redis is not on this host (mrsk accessory boot redis runs it)' }]);
});

test('a container of another app holding the accessory name blocks the host', () => {
  const empty = snapshotOf(
    reachableHost('h1', { containers: [{ id: 'f'.repeat(64), name: 'app-redis', image: 'redis:6', imageId: 'sha256:1', state: 'running', exitCode: 0, labels: {}, createdAt: '2026-11-19T10:00:00.000Z', restartCount: 0 }] }),
    reachableHost('d1'),
  );
  const plan = planOf(CONFIG, V1, empty);
  assert.deepEqual(plan.blockedHosts.map((b) => b.host), ['h1']);
  assert.match(plan.blockedHosts[0]!.message, /app-redis exists that is not this app's accessory redis/);
});

test('an accessory-only host the command did not probe is skipped, not blocked', () => {
  const plan = planOf(CONFIG, V1, snapshotOf(reachableHost('h1')));
  assert.deepEqual(plan.blockedHosts, []);
});

test('the spec: name, labels, hash over secrets as HMACs and files by content hash', () => {
  const spec = accessorySpecFor(CONFIG, redisConfig());
  assert.equal(spec.containerName, 'app-redis');
  assert.deepEqual(spec.ports, ['127.0.0.1:6379:6379']);
  assert.deepEqual(spec.cmd, ['redis-server', '--appendonly', 'yes']);
  assert.equal(spec.labels['mrsk.service'], 'app');
  assert.equal(spec.labels['mrsk.accessory'], 'redis');
  assert.equal(spec.labels['mrsk.spec-hash'], spec.specHash);
  assert.equal(spec.network, 'mrsk');
  assert.deepEqual(spec.directories, [{ hostPath: '.mrsk/app/accessories/redis/data/data', remote: '/data' }]);
  assert.equal(accessorySpecFor(CONFIG, redisConfig({ service: 'cache' })).containerName, 'cache');
  // the local path is not part of the identity; the content is
  const moved = redisConfig({ files: [{ ...redisConfig().files[0]!, localPath: '/elsewhere/redis.conf' }] });
  assert.equal(accessorySpecFor(CONFIG, moved).specHash, spec.specHash);
  const edited = redisConfig({ files: [{ ...redisConfig().files[0]!, hash: `sha256:${'b'.repeat(64)}` }] });
  assert.notEqual(accessorySpecFor(CONFIG, edited).specHash, spec.specHash);
  const db = accessorySpecFor(CONFIG, dbConfig);
  assert.ok(!JSON.stringify(db.labels).includes('pg-secret-value'));
  assert.equal(db.healthcheck, true);
  assert.deepEqual(db.directories, [{ hostPath: '/srv/pg', remote: '/var/lib/postgresql/data' }]);
  assert.deepEqual(accessorySpecFor(CONFIG, redisConfig({ port: '6379' })).ports, ['6379:6379']);
});

test('apply with the default selection plans the accessory-only host; --roles leaves it out; a skipped one is recorded behind by no release', () => {
  const empty = snapshotOf(reachableHost('h1'), reachableHost('d1'));
  const all = selectHosts(CONFIG, {});
  assert.deepEqual(all.hosts, ['h1', 'd1']);
  // what makePlan (src/commands/shared/common.ts) asks the planner for, with the session's selection
  const plan = planOf(CONFIG, V1, empty, { hosts: all.hosts, roles: all.roles.map((r) => r.name) });
  assert.deepEqual(plan, planOf(CONFIG, V1, empty), 'the same plan as the golden first boot');
  assert.deepEqual(plan.steps.filter((s) => s.host === 'd1').map((s) => s.action.kind), ['image-pull', 'network-create', 'accessory-prepare', 'accessory-run', 'container-wait-healthy']);
  assert.equal(plan.steps.filter((s) => s.host === 'd1' && s.action.kind === 'release-record').length, 0, 'nothing of the app runs there: no release');
  const web = selectHosts(CONFIG, { roles: 'web' });
  assert.deepEqual(planOf(CONFIG, V1, empty, { hosts: web.hosts, roles: web.roles.map((r) => r.name) }).steps.filter((s) => s.host === 'd1'), []);
  const db = selectHosts(CONFIG, { hosts: 'd1' });
  const onDb = planOf(CONFIG, V1, empty, { hosts: db.hosts, roles: db.roles.map((r) => r.name) });
  assert.deepEqual([...new Set(onDb.steps.map((s) => s.host))], ['d1']);
  // apply --skip-unreachable with d1 down: h1's release does not name d1 as behind (it never records one)
  const skipped = planOf(CONFIG, V1, snapshotOf(reachableHost('h1')), { hosts: ['h1'], missedHosts: [{ host: 'd1', reason: 'unreachable' }, { host: 'h9', reason: 'unreachable' }] });
  const record = skipped.steps.find((s) => s.action.kind === 'release-record')!;
  assert.deepEqual(record.action.kind === 'release-record' && record.action.missedHosts, [{ host: 'h9', reason: 'unreachable' }]);
});
