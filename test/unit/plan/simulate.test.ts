// simulate(snapshot, plan): the hosts as the plan would leave them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { ReachableHost } from '../../../src/probe/types.ts';
import { makeConfig } from '../helpers/config.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';

const config = makeConfig();

test('a first deploy leaves network, traefik, containers, image and release on the host', () => {
  const before = emptySnapshot(config);
  const after = simulate(before, diff(deriveDesired(config, 'v1'), before));
  const h1 = after.hosts['h1.example.com'] as ReachableHost;
  assert.ok(h1.networks.includes('mrsk'));
  assert.deepEqual(h1.containers.map((c) => `${c.name} ${c.state}`), ['traefik running', 'app-web-v1 running', 'app-job-v1 running']);
  assert.deepEqual(h1.images.map((i) => i.tags), [['registry.example.com/acme/app:v1']]);
  assert.equal(h1.release?.version, 'v1');
  assert.equal((before.hosts['h1.example.com'] as ReachableHost).containers.length, 0, 'the input snapshot is not modified');
});

test('a new version leaves the old containers stopped and the new ones running, newer', () => {
  const v1 = deployedSnapshot(config, 'v1');
  const after = simulate(v1, diff(deriveDesired(config, 'v2'), v1));
  const h1 = after.hosts['h1.example.com'] as ReachableHost;
  const state = Object.fromEntries(h1.containers.map((c) => [c.name, c.state]));
  assert.deepEqual(state, { traefik: 'running', 'app-web-v1': 'exited', 'app-job-v1': 'exited', 'app-web-v2': 'running', 'app-job-v2': 'running' });
  const created = (name: string) => h1.containers.find((c) => c.name === name)!.createdAt;
  assert.ok(created('app-web-v2') > created('app-web-v1'));
});

test('unreachable hosts are left as they were', () => {
  const snapshot = { ...emptySnapshot(config), hosts: { ...emptySnapshot(config).hosts, 'h2.example.com': { host: 'h2.example.com', status: 'unreachable' as const, message: 'down' } } };
  const after = simulate(snapshot, diff(deriveDesired(config, 'v1'), snapshot));
  assert.deepEqual(after.hosts['h2.example.com'], snapshot.hosts['h2.example.com']);
});
