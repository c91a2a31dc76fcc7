// accessory upload (mode upload, target accessory): the plan writes the accessories' files and
// nothing else, as Kamal's `accessory upload` does: no container is started, stopped or replaced,
// a missing accessory is not booted, an accessory without files gets no step; the headline says
// what it does. And the headline of an accessory converge says reboot only when it replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessoryConfig, Config } from '../../../src/config/types.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import type { PlanRequest } from '../../../src/plan/request.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ReachableHost, Snapshot } from '../../../src/probe/types.ts';
import { headlineOf, summarizePlan } from '../../../src/views/plan.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, reachableHost, snapshotOf } from '../helpers/snapshot.ts';

const file = (remote: string, hash: string) => ({ local: `config${remote}`, localPath: `/project/config${remote}`, remote, mode: '0640', hash: `sha256:${hash.repeat(64)}` });

const redis: AccessoryConfig = {
  name: 'redis',
  image: 'redis:7',
  hosts: ['h1'],
  env: makeEnv(),
  volumes: [],
  labels: {},
  options: {},
  files: [file('/etc/redis.conf', 'a'), file('/etc/users.acl', 'b')],
  directories: [{ local: 'data', remote: '/data' }],
};
const db: AccessoryConfig = { name: 'db', image: 'postgres:16', hosts: ['d1'], env: makeEnv(), volumes: [], labels: {}, options: {}, files: [], directories: [{ local: 'pg', remote: '/var/lib/postgresql/data' }] };

const configWith = (accessories: readonly AccessoryConfig[]): Config => makeConfig({ roles: [makeRole('web', { hosts: ['h1'] })], accessories });
const CONFIG = configWith([redis, db]);
const planOf = (config: Config, snapshot: Snapshot, request: PlanRequest): Plan => diff(deriveDesired(config, 'v1'), snapshot, request);
const deployed = (config: Config = CONFIG): Snapshot => deployedSnapshot(config, 'v1', snapshotOf(reachableHost('h1'), reachableHost('d1')));
const UPLOAD: PlanRequest = { mode: 'upload', target: 'accessory' };

test('upload writes the files of a running accessory and nothing else', () => {
  const plan = planOf(CONFIG, deployed(), { ...UPLOAD, accessories: ['redis'] });
  assert.deepEqual(plan.steps.map((s) => [s.id, s.symbol, s.cause]), [['h1:accessory:redis:prepare', '~', 'upload requested: /etc/redis.conf, /etc/users.acl']]);
  assert.deepEqual(plan.steps[0]!.action, {
    kind: 'accessory-prepare',
    name: 'redis',
    directories: ['.mrsk/app/accessories/redis/data/data'],
    files: [
      { localPath: '/project/config/etc/redis.conf', hostPath: '.mrsk/app/accessories/redis/files/etc/redis.conf', remote: '/etc/redis.conf', mode: '0640', hash: `sha256:${'a'.repeat(64)}` },
      { localPath: '/project/config/etc/users.acl', hostPath: '.mrsk/app/accessories/redis/files/etc/users.acl', remote: '/etc/users.acl', mode: '0640', hash: `sha256:${'b'.repeat(64)}` },
    ],
  });
  assert.deepEqual(plan.blockedHosts, []);
  assert.deepEqual(summarizePlan(plan), { add: 0, change: 1, replace: 0, destroy: 0 });
  assert.equal(headlineOf(plan), 'mrsk will upload the files of accessories of app');
});

test('upload of changed files: only the write, the changed container is left alone', () => {
  const changed = configWith([{ ...redis, files: [file('/etc/redis.conf', 'c'), file('/etc/users.acl', 'b')] }, db]);
  const plan = planOf(changed, deployed(), { ...UPLOAD, accessories: ['redis'] });
  assert.deepEqual(plan.steps.map((s) => s.action.kind), ['accessory-prepare']);
  assert.ok(plan.steps.every((s) => s.precondition.containerId === undefined), 'no step acts on a container');
});

test('upload never boots, starts or stops: a missing or stopped accessory only gets its files', () => {
  const empty = snapshotOf(reachableHost('h1'), reachableHost('d1'));
  assert.deepEqual(planOf(CONFIG, empty, { ...UPLOAD, accessories: ['redis'] }).steps.map((s) => s.action.kind), ['accessory-prepare']);
  const snapshot = deployed();
  const h1 = snapshot.hosts.h1 as ReachableHost;
  const stopped: Snapshot = { ...snapshot, hosts: { ...snapshot.hosts, h1: { ...h1, containers: h1.containers.map((c) => (c.labels['mrsk.accessory'] ? { ...c, state: 'exited' as const } : c)) } } };
  assert.deepEqual(planOf(CONFIG, stopped, { ...UPLOAD, accessories: ['redis'] }).steps.map((s) => s.action.kind), ['accessory-prepare']);
});

test('upload of an accessory without files, or of all: a step only where there are files', () => {
  assert.deepEqual(planOf(CONFIG, deployed(), { ...UPLOAD, accessories: ['db'] }).steps, []);
  assert.deepEqual(planOf(CONFIG, deployed(), UPLOAD).steps.map((s) => s.id), ['h1:accessory:redis:prepare']);
  // upload is an accessory mode: on the app it plans nothing
  assert.deepEqual(planOf(CONFIG, deployed(), { mode: 'upload' }).steps, []);
});

test('the headline of an accessory converge: boot, or reboot when it replaces', () => {
  const snapshot = deployed();
  const changed = configWith([{ ...redis, image: 'redis:7.2' }, db]);
  const boot = planOf(changed, snapshot, { target: 'accessory', accessories: ['redis'] });
  assert.equal(headlineOf(boot), 'mrsk will boot accessories of app');
  const reboot = planOf(changed, snapshot, { target: 'accessory', accessories: ['redis'], replace: ['h1/accessory/redis'] });
  assert.equal(headlineOf(reboot), 'mrsk will reboot accessories of app');
  // the replaced container's stop and remove are part of the replace, not a destroy
  assert.ok(reboot.steps.filter((s) => s.action.kind === 'container-stop' || s.action.kind === 'container-remove').every((s) => s.symbol === '-/+'));
  assert.deepEqual(summarizePlan(reboot), { add: 0, change: 0, replace: 1, destroy: 0 });
});
