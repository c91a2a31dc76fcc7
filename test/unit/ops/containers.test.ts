// `mrsk app containers`: marking the current version and rollback targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservedContainer } from '../../../src/probe/types.ts';
import { classifyContainers, commonRollbackTargets, completeVersions, rollbackTargets } from '../../../src/ops/containers.ts';
import { formatContainerTable } from '../../../src/views/containers.ts';

function container(role: string, version: string, state: ObservedContainer['state'], createdAt: string, extra: Partial<ObservedContainer> = {}, labels: Record<string, string> = {}): ObservedContainer {
  return {
    id: `${role}${version}`.padEnd(64, '0'),
    name: `demo-${role}-${version}`,
    image: `reg/demo:${version}`,
    imageId: 'sha256:x',
    state,
    exitCode: state === 'exited' ? 143 : 0,
    labels: { 'mrsk.service': 'demo', 'mrsk.role': role, 'mrsk.version': version, ...labels },
    createdAt,
    restartCount: 0,
    ...extra,
  };
}

// Host with web and job: v3 running, v2 complete (both roles), v1 only web (job pruned), plus strangers.
const host = [
  container('web', 'v1', 'exited', '2026-11-20T10:00:00Z'),
  container('web', 'v2', 'exited', '2026-11-21T10:00:00Z'),
  container('job', 'v2', 'exited', '2026-11-21T10:00:01Z'),
  container('web', 'v3', 'running', '2026-11-22T10:00:00Z', { health: 'healthy' }),
  container('job', 'v3', 'running', '2026-11-22T10:00:01Z'),
  container('web', 'v9', 'running', '2026-11-23T10:00:00Z', {}, { 'mrsk.destination': 'staging' }),
  container('web', 'v9', 'running', '2026-11-23T10:00:00Z', {}, { 'mrsk.service': 'other' }),
];
const options = { service: 'demo', roles: ['web', 'job'], currentVersion: 'v3' };

test('completeVersions: only versions with a container for every role, newest first', () => {
  assert.deepEqual(completeVersions(host, options), ['v3', 'v2']);
  assert.deepEqual(completeVersions(host, { ...options, roles: ['web'] }), ['v3', 'v2', 'v1']);
});

test('classifyContainers marks current, rollback targets and old, newest first, ours only', () => {
  const rows = classifyContainers(host, options);
  assert.deepEqual(
    rows.map((r) => [r.name, r.status, r.mark]),
    [
      ['demo-job-v3', 'running', 'current'],
      ['demo-web-v3', 'running (healthy)', 'current'],
      ['demo-job-v2', 'exited (143)', 'rollback target'],
      ['demo-web-v2', 'exited (143)', 'rollback target'],
      ['demo-web-v1', 'exited (143)', 'old'],
    ],
  );
  assert.deepEqual(rollbackTargets(rows), ['v2']);
});

test('with only the web role selected, v1 is a rollback target too', () => {
  assert.deepEqual(rollbackTargets(classifyContainers(host, { ...options, roles: ['web'] })), ['v2', 'v1']);
});

test('before any deploy nothing is current and every complete version is a target', () => {
  assert.deepEqual(rollbackTargets(classifyContainers(host, { ...options, currentVersion: undefined })), ['v3', 'v2']);
});

test('commonRollbackTargets keeps the versions every host can roll back to', () => {
  assert.deepEqual(commonRollbackTargets([['v3', 'v2', 'v1'], ['v2', 'v1'], ['v1', 'v2']]), ['v2', 'v1']);
  assert.deepEqual(commonRollbackTargets([]), []);
});

test('formatContainerTable prints one row per container with its mark', () => {
  const table = formatContainerTable(classifyContainers(host.slice(0, 2), { service: 'demo', roles: ['web'], currentVersion: 'v2' }));
  assert.equal(
    table,
    'CONTAINER ID  NAME         ROLE  VERSION  STATUS        CREATED\n' +
      'webv20000000  demo-web-v2  web   v2       exited (143)  2026-11-21T10:00:00Z  current\n' +
      'webv10000000  demo-web-v1  web   v1       exited (143)  2026-11-20T10:00:00Z  rollback target\n',
  );
  assert.equal(formatContainerTable([]), 'no containers of this app\n');
});
