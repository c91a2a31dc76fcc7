// Versions that never became healthy: recognised by the name the executor gives them, never a
// rollback target, no slot in retain_containers (the newest one kept for inspection); and how
// `mrsk rollback <version>` resolves a unique prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { isNeverHealthy, neverHealthyName, resolveVersion } from '../../../src/plan/never-healthy.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../../../src/probe/types.ts';
import { makeConfig, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, emptySnapshot, fakeId, observedFromSpec } from '../helpers/snapshot.ts';

const H1 = 'h1.example.com';

test('the never-healthy name: <name>_unhealthy_<12 of the id>, and only that name is recognised', () => {
  const id = fakeId('x');
  const name = neverHealthyName('app-web-v3', id);
  assert.equal(name, `app-web-v3_unhealthy_${id.slice(0, 12)}`);
  assert.ok(isNeverHealthy({ name }));
  assert.ok(!isNeverHealthy({ name: 'app-web-v3' }));
  assert.ok(!isNeverHealthy({ name: `app-web-v3_replaced_${id.slice(0, 12)}` }));
  assert.ok(!isNeverHealthy({ name: 'app-web-unhealthy' }));
});

test('rollback version: exact wins, a unique prefix resolves, several are ambiguous, none is none', () => {
  const hash1 = '3f9a2c1b7d4e5f60718293a4b5c6d7e8f9012345';
  const hash2 = '3f9a2c1b7d4e0000000000000000000000000000';
  const candidates = [hash1, hash2, 'v1', 'v10'];
  assert.deepEqual(resolveVersion(hash1, candidates), { kind: 'exact', version: hash1 });
  assert.deepEqual(resolveVersion('3f9a2c1b7d4e5', candidates), { kind: 'prefix', version: hash1 });
  assert.deepEqual(resolveVersion('3f9a2c1b7d4e', candidates), { kind: 'ambiguous', candidates: [hash2, hash1] });
  assert.deepEqual(resolveVersion('v1', candidates), { kind: 'exact', version: 'v1' }, 'an exact version is never ambiguous with longer ones');
  assert.deepEqual(resolveVersion('v', candidates), { kind: 'ambiguous', candidates: [hash2, hash1, 'v1', 'v10'].filter((v) => v.startsWith('v')) });
  assert.deepEqual(resolveVersion('abc', candidates), { kind: 'none' });
  assert.deepEqual(resolveVersion('', candidates), { kind: 'none' });
});

/** Marks the role's container of `version` on h1 as one that never became healthy (as the executor leaves it). */
function failVersion(snapshot: Snapshot, role: string, version: string, createdAt: string, config = makeConfig()): Snapshot {
  const spec = deriveDesired(config, version).hosts[H1]!.containers.find((s) => s.role === role)!;
  const id = fakeId(`failed/${spec.name}/${createdAt}`);
  const failed: ObservedContainer = { ...observedFromSpec(spec, { state: 'exited', exitCode: 137, createdAt, id }), name: neverHealthyName(spec.name, id) };
  const host = snapshot.hosts[H1] as ReachableHost;
  return { ...snapshot, hosts: { ...snapshot.hosts, [H1]: { ...host, containers: [...host.containers, failed] } } };
}

const removals = (snapshot: Snapshot, config: ReturnType<typeof makeConfig>, version: string): string[] =>
  diff(deriveDesired(config, version), snapshot)
    .steps.filter((s) => s.host === H1 && s.action.kind === 'container-remove')
    .map((s) => `${'name' in s.action ? s.action.name : ''}: ${s.cause}`);

test('retention: never-healthy containers take no retained slot; the newest is kept, older ones are removed', () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })], retainContainers: 2 });
  let snapshot = emptySnapshot(config);
  for (const version of ['v1', 'v2', 'v3']) snapshot = deployedSnapshot(config, version, snapshot);
  // v4 and v5 each failed once after v3 was deployed; v3 serves, v1 and v2 are retained.
  snapshot = failVersion(snapshot, 'web', 'v4', '2026-11-20T20:00:00.000Z', config);
  snapshot = failVersion(snapshot, 'web', 'v5', '2026-11-20T21:00:00.000Z', config);
  const removed = removals(snapshot, config, 'v3');
  assert.equal(removed.length, 1, removed.join('\n'));
  assert.match(removed[0]!, /^app-web-v4_unhealthy_[0-9a-f]{12}: never became healthy; a newer one of role web is kept for inspection$/);
  // v1 and v2 stay: two retained versions, as retain_containers says, although two failures are newer
  assert.ok(!removed.some((r) => r.startsWith('app-web-v1') || r.startsWith('app-web-v2')));
});

test('retention: a real version beyond retain_containers still goes while a failure is kept', () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })], retainContainers: 1 });
  let snapshot = emptySnapshot(makeConfig({ ...config, retainContainers: 5 }));
  for (const version of ['v1', 'v2', 'v3']) snapshot = deployedSnapshot(makeConfig({ ...config, retainContainers: 5 }), version, snapshot);
  snapshot = failVersion(snapshot, 'web', 'v4', '2026-11-20T20:00:00.000Z', config);
  assert.deepEqual(removals(snapshot, config, 'v3'), ['app-web-v1: older than the 1 retained stopped container of role web']);
});

test('retention 0 removes never-healthy containers too', () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })], retainContainers: 0 });
  let snapshot = deployedSnapshot(config, 'v1', emptySnapshot(config));
  snapshot = failVersion(snapshot, 'web', 'v2', '2026-11-20T20:00:00.000Z', config);
  const removed = removals(snapshot, config, 'v1');
  assert.equal(removed.length, 1);
  assert.match(removed[0]!, /_unhealthy_[0-9a-f]{12}: never became healthy \(retain_containers is 0\)$/);
});

test('deploying a version again after it failed starts a fresh container: the failed one no longer holds the name', () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })] });
  let snapshot = deployedSnapshot(config, 'v1', emptySnapshot(config));
  snapshot = failVersion(snapshot, 'web', 'v2', '2026-11-20T20:00:00.000Z', config);
  const steps = diff(deriveDesired(config, 'v2'), snapshot).steps.filter((s) => s.host === H1);
  const run = steps.find((s) => s.action.kind === 'container-run')!;
  assert.deepEqual(run.precondition, { absentName: 'app-web-v2' });
  assert.equal(run.cause, 'new version v1 → v2');
  assert.ok(!steps.some((s) => s.action.kind === 'container-start'), 'the failed container is not started again');
});

test('mrsk app containers marks a never-healthy container as such, never as a rollback target', async () => {
  const { classifyContainers, rollbackTargets } = await import('../../../src/ops/containers.ts');
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })] });
  let snapshot = deployedSnapshot(config, 'v1', emptySnapshot(config));
  snapshot = deployedSnapshot(config, 'v2', snapshot);
  snapshot = failVersion(snapshot, 'web', 'v3', '2026-11-20T20:00:00.000Z', config);
  const rows = classifyContainers((snapshot.hosts[H1] as ReachableHost).containers, { service: 'app', roles: ['web'], currentVersion: 'v2' });
  assert.deepEqual(rows.map((r) => `${r.version} ${r.mark}`), ['v3 never healthy', 'v2 current', 'v1 rollback target']);
  assert.deepEqual(rollbackTargets(rows), ['v1']);
});

test('drift does not report a never-healthy container (apply prunes it)', async () => {
  const { detectDrift, allFindings } = await import('../../../src/drift/detect.ts');
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })] });
  let snapshot = deployedSnapshot(config, 'v1', emptySnapshot(config));
  snapshot = failVersion(snapshot, 'web', 'v2', '2026-11-20T20:00:00.000Z', config);
  assert.deepEqual(allFindings(detectDrift(config, snapshot, { hosts: config.hosts })), []);
});

test('the health wait of a container started again says how it was before (so a failure puts it back, unmarked)', () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] })] });
  const snapshot = deployedSnapshot(config, 'v1', emptySnapshot(config));
  const host = snapshot.hosts[H1] as ReachableHost;
  const withState = (state: 'exited' | 'running', health?: 'unhealthy'): Snapshot => ({
    ...snapshot,
    hosts: { [H1]: { ...host, containers: host.containers.map((c) => (c.name === 'app-web-v1' ? { ...c, state, ...(health ? { health } : { health: undefined }) } : c)) } },
  });
  const waitOf = (s: Snapshot) => diff(deriveDesired(config, 'v1'), s).steps.find((step) => step.action.kind === 'container-wait-healthy')!.action;
  assert.equal((waitOf(withState('exited')) as { existing?: string }).existing, 'stopped');
  assert.equal((waitOf(withState('running', 'unhealthy')) as { existing?: string }).existing, 'running');
  const fresh = diff(deriveDesired(config, 'v2'), snapshot).steps.find((step) => step.action.kind === 'container-wait-healthy')!.action;
  assert.equal((fresh as { existing?: string }).existing, undefined);
});
