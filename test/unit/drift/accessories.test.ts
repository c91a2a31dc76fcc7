// Drift of accessories (src/drift/detect.ts, fix-intent.ts): compared with the config, not the
// release (the ledger keeps none), also on a host that runs only accessories and records no
// release. --fix creates a missing one and starts a stopped one; it never replaces a changed one
// (the planner lists it as pending) nor removes one the config dropped (it may hold data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessoryConfig, Config } from '../../../src/config/types.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { desiredFromRelease } from '../../../src/desired/from-release.ts';
import { allFindings, detectDrift, driftExitCode } from '../../../src/drift/detect.ts';
import { fixIntent } from '../../../src/drift/fix-intent.ts';
import type { DriftFinding } from '../../../src/drift/types.ts';
import { ACCESSORY_LABEL } from '../../../src/model/labels.ts';
import { diff } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../../../src/probe/types.ts';
import { renderDriftText } from '../../../src/views/drift.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, reachableHost, snapshotOf } from '../helpers/snapshot.ts';
import { editContainer, editHost } from '../helpers/scenarios.ts';

const redis = (overrides: Partial<AccessoryConfig> = {}): AccessoryConfig => ({
  name: 'redis',
  image: 'redis:7',
  hosts: ['h1'],
  env: makeEnv({ REDIS_MAXMEMORY: '64mb' }),
  volumes: [],
  labels: {},
  options: {},
  files: [],
  directories: [{ local: 'data', remote: '/data' }],
  ...overrides,
});
const db: AccessoryConfig = { name: 'db', image: 'postgres:16', hosts: ['d1'], env: makeEnv({}), volumes: [], labels: {}, options: {}, files: [], directories: [{ local: '/srv/pg', remote: '/var/lib/postgresql/data' }] };

// web on h1 with redis beside it; db alone on d1, a host in no role
const configWith = (accessories: readonly AccessoryConfig[]): Config => makeConfig({ roles: [makeRole('web', { hosts: ['h1'] })], accessories });
const CONFIG = configWith([redis(), db]);
const HOSTS = ['h1', 'd1'];

/** apply on fresh hosts: the app and both accessories, a release recorded on h1 only. */
function deployed(config: Config = CONFIG): Snapshot {
  return deployedSnapshot(config, 'v1', snapshotOf(reachableHost('h1'), reachableHost('d1')));
}

const findings = (config: Config, snapshot: Snapshot): DriftFinding[] => allFindings(detectDrift(config, snapshot, { hosts: HOSTS }));
const brief = (f: DriftFinding) => `${f.host} ${f.kind} ${f.accessory ?? '-'} ${f.fixable ? 'fixable' : 'not fixable'}`;
const withoutAccessory = (snapshot: Snapshot, host: string, name: string): Snapshot =>
  editHost(snapshot, host, (h) => ({ ...h, containers: h.containers.filter((c) => c.labels[ACCESSORY_LABEL] !== name) }));
const stopped = (c: ObservedContainer): ObservedContainer => ({ ...c, state: 'exited', exitCode: 0, health: undefined });

/** What `mrsk drift --fix` plans (as src/commands/drift.ts asks converge for it). */
function fixPlan(config: Config, snapshot: Snapshot): Plan | undefined {
  const intent = fixIntent(config, snapshot, { hosts: HOSTS });
  return intent.plan ? diff(intent.plan.desired, snapshot, { ...intent.plan.request, hosts: intent.plan.hosts, roles: ['web'] }) : undefined;
}

test('just applied: no drift, the accessory-only host checked without a release', () => {
  const snapshot = deployed();
  assert.equal((snapshot.hosts['d1'] as ReachableHost).release, undefined, 'a host in no role records no release');
  const report = detectDrift(CONFIG, snapshot, { hosts: HOSTS });
  assert.deepEqual(allFindings(report), []);
  assert.deepEqual(report.summary, { hostsChecked: 2, hostsWithDrift: 0, hostsInError: 0, findings: 0, fixable: 0 });
  assert.equal(driftExitCode(report), 0);
  const text = renderDriftText(report);
  assert.match(text, /\nd1 {2}accessories only \(no release: nothing of the app runs here\)\n {2}✓ no drift\n/);
});

test('a stopped accessory is fixable; --fix only starts it, then there is no drift', () => {
  const snapshot = editContainer(deployed(), 'h1', 'app-redis', stopped);
  const found = findings(CONFIG, snapshot);
  assert.deepEqual(found.map(brief), ['h1 accessory-stopped redis fixable']);
  assert.equal(found[0]!.cause, 'container app-redis exited (0)');
  assert.equal(found[0]!.container, 'app-redis');
  assert.match(renderDriftText(detectDrift(CONFIG, snapshot, { hosts: HOSTS }), { width: 120 }), /\n {2}! accessory redis: container app-redis exited \(0\) \(accessory-stopped\) \[fixable\]\n/);
  const plan = fixPlan(CONFIG, snapshot)!;
  assert.deepEqual(plan.steps.map((s) => s.id), ['h1:accessory:redis:start']);
  assert.deepEqual(findings(CONFIG, simulate(snapshot, plan)), []);
});

test('a missing accessory on the accessory-only host is fixable; --fix creates it there and records no release', () => {
  const snapshot = withoutAccessory(deployed(), 'd1', 'db');
  assert.deepEqual(findings(CONFIG, snapshot).map(brief), ['d1 accessory-missing db fixable']);
  const plan = fixPlan(CONFIG, snapshot)!;
  assert.deepEqual(plan.steps.map((s) => `${s.host} ${s.action.kind}`), ['d1 accessory-prepare', 'd1 accessory-run']);
  assert.equal(plan.steps.filter((s) => s.action.kind === 'release-record').length, 0);
  assert.equal(plan.version, 'v1', 'the plan is named after the fleet’s release');
  assert.deepEqual(findings(CONFIG, simulate(snapshot, plan)), []);
});

test('a changed accessory is reported, not fixable, with the reboot command; a fix plan has no step on it', () => {
  const changed = configWith([redis({ image: 'redis:7.2' }), db]);
  const snapshot = deployed();
  const found = findings(changed, snapshot);
  assert.deepEqual(found.map(brief), ['h1 accessory-changed redis not fixable']);
  assert.equal(found[0]!.cause, 'runs another spec than the config: image "redis:7" → "redis:7.2"');
  assert.equal(found[0]!.hint, '`mrsk accessory reboot redis` replaces it (its data folders stay)');
  assert.equal(fixIntent(changed, snapshot, { hosts: HOSTS }).plan, undefined, 'nothing to fix');

  // another fixable finding on the same host: the fix plan runs, and leaves the changed accessory alone
  const appStopped = editContainer(snapshot, 'h1', 'app-web-v1', stopped);
  const redisId = (snapshot.hosts['h1'] as ReachableHost).containers.find((c) => c.name === 'app-redis')!.id;
  const plan = fixPlan(changed, appStopped)!;
  assert.ok(plan.steps.some((s) => s.action.kind === 'container-start' && s.action.name === 'app-web-v1'), 'the app container is started');
  assert.deepEqual(plan.steps.filter((s) => s.address === 'h1/accessory/redis' || s.precondition.containerId === redisId || s.action.kind.startsWith('accessory')), []);
  assert.deepEqual(plan.pending?.map((p) => [p.address, p.command]), [['h1/accessory/redis', 'mrsk accessory reboot redis']]);

  // changed and stopped: --fix starts the container it has (no pull, no new container), still pending
  const both = editContainer(snapshot, 'h1', 'app-redis', stopped);
  assert.deepEqual(findings(changed, both).map(brief), ['h1 accessory-changed redis not fixable', 'h1 accessory-stopped redis fixable']);
  const start = fixPlan(changed, both)!;
  assert.deepEqual(start.steps.map((s) => `${s.action.kind} ${s.precondition.containerId === redisId}`), ['container-start true']);
  assert.deepEqual(start.pending?.map((p) => p.address), ['h1/accessory/redis']);
});

test('an accessory the config no longer has on a host is stray: never fixed (it may hold data), named for docker rm', () => {
  const snapshot = deployed();
  const dropped = configWith([db]);
  const found = findings(dropped, snapshot);
  assert.deepEqual(found.map(brief), ['h1 accessory-stray redis not fixable']);
  assert.equal(found[0]!.cause, 'container app-redis (running): the config no longer has accessory redis');
  assert.match(found[0]!.hint!, /may hold data.*`docker rm -f app-redis` on the host/);
  // moved to another host: stray where it was, missing where it goes
  const moved = configWith([redis({ hosts: ['d1'] }), db]);
  assert.deepEqual(findings(moved, snapshot).map(brief), ['h1 accessory-stray redis not fixable', 'd1 accessory-missing redis fixable']);
  assert.match(findings(moved, snapshot)[0]!.cause, /the config runs accessory redis on d1, no longer on this host/);
  // --fix creates it on d1 and leaves the old container (and its data) on h1 alone
  const plan = fixPlan(moved, snapshot)!;
  assert.deepEqual([...new Set(plan.steps.map((s) => s.host))], ['d1']);
  assert.ok(plan.steps.every((s) => s.action.kind !== 'container-stop' && s.action.kind !== 'container-remove'));
});

test('restarting, paused or unhealthy accessories are reported, not fixed blindly', () => {
  const snapshot = deployed();
  const cases: [Partial<ObservedContainer>, string][] = [
    [{ state: 'restarting', restartCount: 4 }, 'container app-db restarting (crash loop, 4 restarts)'],
    [{ state: 'paused' }, 'container app-db paused'],
    [{ health: 'unhealthy' }, 'container app-db unhealthy'],
  ];
  for (const [edit, cause] of cases) {
    const found = findings(CONFIG, editContainer(snapshot, 'd1', 'app-db', (c) => ({ ...c, ...edit })));
    assert.deepEqual(found.map((f) => [f.kind, f.cause, f.fixable]), [['accessory-unhealthy', cause, false]]);
    assert.match(found[0]!.hint!, /docker logs app-db/);
  }
});

test('app containers on a host in no role: config-changed there, and --fix leaves that host to apply', () => {
  const snapshot = withoutAccessory(deployed(), 'd1', 'db');
  const web = (snapshot.hosts['h1'] as ReachableHost).containers.find((c) => c.name === 'app-web-v1')!;
  const invaded = editHost(snapshot, 'd1', (h) => ({ ...h, containers: [...h.containers, { ...web, id: 'e'.repeat(64) }] }));
  assert.deepEqual(findings(CONFIG, invaded).map(brief), ['d1 config-changed - not fixable', 'd1 accessory-missing db fixable']);
  const intent = fixIntent(CONFIG, invaded, { hosts: HOSTS });
  assert.equal(intent.plan, undefined);
  assert.deepEqual(intent.leftOut.map((l) => l.host), ['d1']);
  assert.match(intent.leftOut[0]!.reason, /`mrsk apply` converges it/);
});

test('a role host without a release: its accessories are still checked; --fix leaves the host to apply', () => {
  const fresh = snapshotOf(reachableHost('h1'), reachableHost('d1'));
  const snapshot = deployed();
  const bare = editHost(fresh, 'd1', () => snapshot.hosts['d1'] as ReachableHost);
  assert.deepEqual(findings(CONFIG, bare).map(brief), ['h1 no-release - not fixable', 'h1 accessory-missing redis fixable']);
  const intent = fixIntent(CONFIG, bare, { hosts: HOSTS });
  assert.equal(intent.plan, undefined);
  assert.deepEqual(intent.leftOut, [{ host: 'h1', reason: 'no release is recorded on it: `mrsk apply` converges it, its accessories too' }]);
});

test('a restored release takes its accessories from the config (they are not versioned with the app)', () => {
  const snapshot = deployed();
  const h1 = snapshot.hosts['h1'] as ReachableHost;
  const changed = configWith([redis({ image: 'redis:7.2' }), db]);
  const { desired, notes } = desiredFromRelease({ config: changed, version: 'v1', releases: { h1: h1.release }, traefik: 'restore' });
  const fromConfig = deriveDesired(changed, 'v1');
  assert.deepEqual(desired.hosts['h1']!.accessories, fromConfig.hosts['h1']!.accessories);
  assert.equal(desired.hosts['h1']!.accessories![0]!.image, 'redis:7.2');
  // the accessory-only host has no release and needs none: its desired state is the config's, no note names it
  assert.deepEqual(desired.hosts['d1'], fromConfig.hosts['d1']);
  assert.deepEqual(notes.filter((n) => n.hosts.includes('d1')), []);
  // the release's own containers are still the recorded ones
  assert.deepEqual(desired.hosts['h1']!.containers.map((c) => c.specHash), [h1.release!.specHashes['web']]);
});
