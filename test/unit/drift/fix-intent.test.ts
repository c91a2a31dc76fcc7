// What `mrsk drift --fix` plans (src/drift/fix-intent.ts: a converge towards each host's recorded
// release): on each drift case the plan, simulated on the snapshot, leaves no fixable drift; and no
// step ever rolls out a new version or spec, touches a container without this service's labels,
// or removes the newest retained version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixIntent } from '../../../src/drift/fix-intent.ts';
import { allFindings, detectDrift } from '../../../src/drift/detect.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Config } from '../../../src/config/types.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ObservedContainer, Snapshot } from '../../../src/probe/types.ts';
import { DATABASE_URL_VALUE, makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, fakeId, foreignContainer, observedFromSpec } from '../helpers/snapshot.ts';
import { editContainer, editHost } from '../helpers/scenarios.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';

/** What `mrsk drift --fix` plans: the planner asked for each host's recorded release. */
function fixPlan(config: Config, snapshot: Snapshot): Plan {
  const intent = fixIntent(config, snapshot, { hosts: config.hosts });
  if (!intent.plan) return { ...diff(deriveDesired(config, 'none'), snapshot, { hosts: [] }), blockedHosts: [] };
  return diff(intent.plan.desired, snapshot, { ...intent.plan.request, hosts: intent.plan.hosts });
}

/** Runs the fix in the simulator and returns the findings left. */
function afterFix(config: Config, snapshot: Snapshot): { plan: Plan; left: string[] } {
  const plan = fixPlan(config, snapshot);
  const after = simulate(snapshot, plan);
  return { plan, left: allFindings(detectDrift(config, after, { hosts: config.hosts })).map((f) => `${f.host} ${f.kind}`) };
}

const actions = (plan: Plan): string[] => plan.steps.map((s) => `${s.host} ${s.action.kind} ${'name' in s.action ? s.action.name : 'spec' in s.action ? s.action.spec.name : ''}`.trim());

/** Every step of the plan passes the safety rules for this snapshot. */
function assertSafe(plan: Plan, snapshot: Snapshot, config: Config, recordedVersion = 'v1'): void {
  for (const step of plan.steps) {
    const host = snapshot.hosts[step.host];
    assert.ok(host && host.status === 'ok');
    const a = step.action;
    assert.notEqual(a.kind, 'release-record', 'a fix never writes a new release');
    if (a.kind === 'container-run') {
      assert.equal(a.spec.version, recordedVersion, 'never a new version');
      assert.equal(a.spec.specHash, host.release?.specHashes[a.spec.role], 'never a new spec');
    }
    if (a.kind === 'traefik-run') assert.equal(a.spec.specHash, host.release?.traefikSpecHash);
    if (a.kind === 'container-stop' || a.kind === 'container-remove' || a.kind === 'container-drain') {
      const c = host.containers.find((x) => x.id === a.containerId)!;
      const ours = c.labels['mrsk.service'] === config.service || (c.name === 'traefik' && c.labels['mrsk.traefik'] === 'true');
      assert.ok(ours, `${step.id} touches ${c.name}, which is not this service's`);
    }
  }
}

test('a stopped container is started again (no new container, no pull), and then there is no drift', () => {
  const config = makeConfig();
  const snapshot = editContainer(deployedSnapshot(config, 'v1'), H1, 'app-web-v1', (c) => ({ ...c, state: 'exited', exitCode: 137, health: undefined }));
  const { plan, left } = afterFix(config, snapshot);
  assert.deepEqual(actions(plan), [`${H1} container-start app-web-v1`, `${H1} container-wait-healthy app-web-v1`, `${H1} traefik-wait-up app-web-v1`]);
  assertSafe(plan, snapshot, config);
  assert.deepEqual(left, []);
});

test('a missing container is re-created from the recorded release', () => {
  const config = makeConfig();
  const snapshot = editHost(deployedSnapshot(config, 'v1'), H2, (h) => ({ ...h, containers: h.containers.filter((c) => c.name !== 'app-web-v1'), images: [] }));
  const { plan, left } = afterFix(config, snapshot);
  assert.deepEqual(actions(plan), [`${H2} image-pull`, `${H2} container-run app-web-v1`, `${H2} container-wait-healthy app-web-v1`, `${H2} traefik-wait-up app-web-v1`]);
  assertSafe(plan, snapshot, config);
  assert.deepEqual(left, []);
});

test('Traefik killed or removed is re-created with the recorded spec', () => {
  const config = makeConfig();
  const removed = editHost(deployedSnapshot(config, 'v1'), H1, (h) => ({ ...h, containers: h.containers.filter((c) => c.name !== 'traefik') }));
  const first = afterFix(config, removed);
  assert.deepEqual(actions(first.plan), [`${H1} traefik-run traefik`]);
  assert.deepEqual(first.left, []);
  const killed = editContainer(deployedSnapshot(config, 'v1'), H2, 'traefik', (c) => ({ ...c, state: 'exited', exitCode: 137 }));
  const second = afterFix(config, killed);
  assert.ok(second.plan.steps.some((s) => s.action.kind === 'traefik-run' || s.action.kind === 'container-start'));
  assertSafe(second.plan, killed, config);
  assert.deepEqual(second.left, []);
});

test('a stray container with this service labels is stopped and removed; a foreign one is never touched', () => {
  const config = makeConfig();
  const spec = deriveDesired(config, 'v1').hosts[H1]!.containers[0]!;
  const stray: ObservedContainer = { ...observedFromSpec(spec), id: fakeId('stray'), name: 'app-debug', labels: { 'mrsk.service': 'app', 'mrsk.role': 'web' } };
  const foreign = foreignContainer('shop-web-v1', { 'mrsk.service': 'shop', 'mrsk.role': 'web' });
  const snapshot = editHost(deployedSnapshot(config, 'v1'), H1, (h) => ({ ...h, containers: [...h.containers, stray, foreign] }));
  const { plan, left } = afterFix(config, snapshot);
  assert.deepEqual(actions(plan), [`${H1} container-stop app-debug`, `${H1} container-remove app-debug`]);
  assertSafe(plan, snapshot, config);
  assert.deepEqual(left, []);
  const after = simulate(snapshot, plan);
  const h1 = after.hosts[H1];
  assert.ok(h1?.status === 'ok' && h1.containers.some((c) => c.id === foreign.id), 'the foreign container is still there');
});

test('a container recreated by hand with another label is replaced by the recorded spec', () => {
  const config = makeConfig();
  const snapshot = editContainer(deployedSnapshot(config, 'v1'), H1, 'app-web-v1', (c) => ({ ...c, id: fakeId('hand'), labels: { ...c.labels, owner: 'ops' } }));
  const { plan, left } = afterFix(config, snapshot);
  const kinds = plan.steps.map((s) => s.action.kind);
  assert.ok(kinds.includes('container-remove') && kinds.includes('container-run'), kinds.join(','));
  const run = plan.steps.find((s) => s.action.kind === 'container-run')!;
  assert.equal(run.action.kind === 'container-run' && run.action.spec.labels.owner, undefined);
  // the replacement has the same spec, so the same drain folder: removing the edited one keeps it
  const cord = run.action.kind === 'container-run' ? run.action.spec.cordDir : undefined;
  assert.ok(cord);
  for (const step of plan.steps) if (step.action.kind === 'container-remove') assert.notEqual(step.action.cordDir, cord, `${step.id} would remove the new container's drain folder`);
  assertSafe(plan, snapshot, config);
  assert.deepEqual(left, []);
});

test('an old version started by hand is stopped again and kept for rollback', () => {
  const config = makeConfig();
  const v2 = deployedSnapshot(config, 'v2', deployedSnapshot(config, 'v1'));
  const snapshot = editContainer(v2, H2, 'app-web-v1', (c) => ({ ...c, state: 'running' }));
  const plan = fixPlan(config, snapshot);
  assert.deepEqual(actions(plan), [`${H2} container-drain app-web-v1`, `${H2} container-stop app-web-v1`]);
  assertSafe(plan, snapshot, config, 'v2');
  const after = simulate(snapshot, plan);
  assert.deepEqual(allFindings(detectDrift(config, after, { hosts: config.hosts })), []);
});

test('excess retained versions are pruned, never the newest retained one', () => {
  const config = makeConfig({ retainContainers: 1 });
  let snapshot = deployedSnapshot(config, 'v1');
  snapshot = deployedSnapshot(config, 'v2', snapshot);
  snapshot = deployedSnapshot(config, 'v3', snapshot);
  const v0 = observedFromSpec(deriveDesired(config, 'v0').hosts[H2]!.containers[0]!, { state: 'exited', createdAt: '2026-11-01T00:00:00.000Z' });
  const drifted = editHost(snapshot, H2, (h) => ({ ...h, containers: [...h.containers, v0] }));
  const plan = fixPlan(config, drifted);
  const removed = plan.steps.filter((s) => s.action.kind === 'container-remove').map((s) => (s.action as { name: string }).name);
  assert.deepEqual(removed, ['app-web-v0']);
  assert.ok(!removed.includes('app-web-v2'), 'the newest retained version stays');
  assert.deepEqual(allFindings(detectDrift(config, simulate(drifted, plan), { hosts: config.hosts })), []);
});

test('with retain_containers 0 the last retained version is still never removed', () => {
  const config = makeConfig({ retainContainers: 0 });
  const base = makeConfig();
  let snapshot = deployedSnapshot(base, 'v1');
  snapshot = deployedSnapshot(base, 'v2', snapshot);
  const report = detectDrift(config, snapshot, { hosts: config.hosts });
  assert.deepEqual(allFindings(report), [], 'the newest retained version is never excess');
  assert.deepEqual(fixIntent(config, snapshot, { hosts: config.hosts }).plan, undefined, 'nothing to fix, nothing planned');
});

test('a config changed since the release: nothing of the new spec is kept, only true drift is fixed', () => {
  const config = makeConfig();
  const snapshot = editContainer(deployedSnapshot(config, 'v1'), H1, 'app-job-v1', (c) => ({ ...c, state: 'exited', exitCode: 1 }));
  const edited = makeConfig({
    roles: [
      makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'debug' }, { DATABASE_URL: DATABASE_URL_VALUE }) }),
      makeRole('job', { hosts: [H1], cmd: 'bin/jobs' }),
    ],
  });
  const full = diff(deriveDesired(edited, 'v1'), snapshot);
  assert.ok(full.steps.some((s) => s.action.kind === 'container-run' && s.action.spec.role === 'web'), 'apply would replace web');
  const plan = fixPlan(edited, snapshot);
  assert.deepEqual(actions(plan), [`${H1} container-start app-job-v1`, `${H1} container-wait-healthy app-job-v1`]);
  assertSafe(plan, snapshot, edited);
  const left = allFindings(detectDrift(edited, simulate(snapshot, plan), { hosts: edited.hosts }));
  assert.deepEqual(left.map((f) => [f.kind, f.fixable]), [['config-changed', false], ['config-changed', false]]);
});

test('a host with no drift gets no steps even when diff would record the release again', () => {
  const config = makeConfig();
  const snapshot = editHost(deployedSnapshot(config, 'v1'), H2, (h) => ({ ...h, release: h.release && { ...h.release, specHashes: {} } }));
  const full = diff(deriveDesired(config, 'v1'), snapshot);
  assert.ok(full.steps.some((s) => s.action.kind === 'release-record'));
  assert.deepEqual(fixPlan(config, snapshot).steps, []);
});


test('a hand-edited container is named in replace (its hash label was copied, so only replace makes the planner act)', () => {
  const config = makeConfig();
  const snapshot = editContainer(deployedSnapshot(config, 'v1'), H1, 'app-web-v1', (c) => ({ ...c, labels: { ...c.labels, owner: 'ops' } }));
  const intent = fixIntent(config, snapshot, { hosts: config.hosts });
  assert.deepEqual(intent.plan?.request.replace, [`${H1}/container/app-web-v1`]);
  assert.deepEqual(intent.plan?.hosts, [H1]);
});

test('a host whose ledger cannot restore its release while the config changed is left out, with the reason', () => {
  const config = makeConfig();
  const deployed = deployedSnapshot(config, 'v1');
  // an older record: no desired state kept
  const old = editHost(deployed, H1, (h) => ({ ...h, release: h.release && { ...h.release, desired: undefined } }));
  // web (unchanged in the config) exited: fixable; job's cmd changed: the config is not the release's
  const snapshot = editContainer(old, H1, 'app-web-v1', (c) => ({ ...c, state: 'exited', exitCode: 1 }));
  const edited = makeConfig({ roles: config.roles.map((r) => (r.name === 'job' ? makeRole('job', { ...r, cmd: 'bin/jobs --fast' }) : r)) });
  const intent = fixIntent(edited, snapshot, { hosts: edited.hosts });
  assert.equal(intent.plan, undefined);
  assert.deepEqual(intent.leftOut.map((l) => l.host), [H1]);
  assert.match(intent.leftOut[0]!.reason, /mrsk apply/);
});
