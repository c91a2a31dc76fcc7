// --hosts / --roles / --primary selection, with the hosts that run only accessories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../../src/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import type { AccessoryConfig } from '../../../src/config/types.ts';
import { accessoryOnlyHosts, compileFilter, hostsWithRoles, selectHosts } from '../../../src/config/select.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';

// roles: api (primary) 172.16.0.10, 172.16.0.11; worker 172.16.0.20
const config = await loadConfig({ file: 'config/deploy.yml', cwd: fileURLToPath(new URL('../../../fixtures/configs/primary-role/', import.meta.url)), env: {} });
const summary = (filter: Parameters<typeof selectHosts>[1]) => {
  const selection = selectHosts(config, filter);
  return { hosts: selection.hosts, roles: selection.roles.map((role) => `${role.name}=${role.hosts.join('+')}`) };
};

test('no filter selects everything, primary role first', () => {
  assert.deepEqual(summary({}), { hosts: ['172.16.0.10', '172.16.0.11', '172.16.0.20'], roles: ['api=172.16.0.10+172.16.0.11', 'worker=172.16.0.20'] });
});

test('--roles and --hosts take comma lists with * wildcards; roles are narrowed to the selected hosts', () => {
  assert.deepEqual(summary({ roles: 'work*' }), { hosts: ['172.16.0.20'], roles: ['worker=172.16.0.20'] });
  assert.deepEqual(summary({ hosts: '172.16.0.11, 172.16.0.2*' }), { hosts: ['172.16.0.11', '172.16.0.20'], roles: ['api=172.16.0.11', 'worker=172.16.0.20'] });
  assert.deepEqual(summary({ roles: 'api', hosts: '*.11' }), { hosts: ['172.16.0.11'], roles: ['api=172.16.0.11'] });
});

test('--primary selects the primary host only', () => {
  assert.deepEqual(summary({ primary: true }), { hosts: ['172.16.0.10'], roles: ['api=172.16.0.10'] });
});

test('a filter that matches nothing is a usage error naming what exists', () => {
  assert.throws(() => selectHosts(config, { roles: 'web' }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 64);
    assert.equal(error.message, 'no role matches --roles "web" (roles: api, worker)');
    return true;
  });
  assert.throws(() => selectHosts(config, { hosts: '10.*' }), { message: 'no host matches --hosts "10.*" (hosts: 172.16.0.10, 172.16.0.11, 172.16.0.20)' });
  assert.throws(() => selectHosts(config, { roles: 'worker', hosts: '172.16.0.10' }), { message: 'no host matching --hosts "172.16.0.10" is in roles worker' });
  assert.throws(() => selectHosts(config, { roles: 'worker', primary: true }), { message: 'the primary host 172.16.0.10 is not among the selected hosts (172.16.0.20)' });
});

test('wildcards match whole names and treat other characters literally', () => {
  const [matcher] = compileFilter('10.0.*.1');
  assert.ok(matcher!.test('10.0.5.1'));
  assert.ok(!matcher!.test('10x0.5.1'));
  assert.ok(!matcher!.test('10.0.5.12'));
  assert.deepEqual(compileFilter(' , ,'), []);
});

test('the config itself is not changed by a selection', () => {
  selectHosts(config, { hosts: '172.16.0.11' });
  assert.deepEqual(config.roles[0]!.hosts, ['172.16.0.10', '172.16.0.11']);
});

// Hosts that run only accessories (a database server in no role).

const accessory = (name: string, hosts: string[]): AccessoryConfig => ({ name, image: `${name}:1`, hosts, env: makeEnv({}), volumes: [], labels: {}, options: {}, files: [], directories: [] });
// web h1+h2, job h2; redis on h1 (a role host) and cache1; db on db1 and cache1
const withAccessories = makeConfig({
  roles: [makeRole('web', { hosts: ['h1', 'h2'] }), makeRole('job', { hosts: ['h2'] })],
  accessories: [accessory('redis', ['h1', 'cache1']), accessory('db', ['db1', 'cache1'])],
});
const summaryOf = (filter: Parameters<typeof selectHosts>[1]) => {
  const selection = selectHosts(withAccessories, filter);
  return { hosts: selection.hosts, roles: selection.roles.map((role) => `${role.name}=${role.hosts.join('+')}`) };
};

test('accessory-only hosts: the hosts in no role, each once, in the order the accessories name them', () => {
  assert.deepEqual(accessoryOnlyHosts(withAccessories), ['cache1', 'db1']);
  assert.deepEqual(accessoryOnlyHosts(config), []);
});

test('no filter selects the role hosts, then the accessory-only hosts', () => {
  assert.deepEqual(summaryOf({}), { hosts: ['h1', 'h2', 'cache1', 'db1'], roles: ['web=h1+h2', 'job=h2'] });
});

test('--roles selects only role hosts: an accessory-only host carries no role', () => {
  assert.deepEqual(summaryOf({ roles: 'web' }), { hosts: ['h1', 'h2'], roles: ['web=h1+h2'] });
  assert.deepEqual(summaryOf({ roles: '*' }), { hosts: ['h1', 'h2'], roles: ['web=h1+h2', 'job=h2'] });
  assert.throws(() => selectHosts(withAccessories, { roles: 'web', hosts: 'db1' }), { message: 'no host matching --hosts "db1" is in roles web' });
});

test('--hosts selects any host of the config, with roles or only accessories', () => {
  assert.deepEqual(summaryOf({ hosts: 'db1' }), { hosts: ['db1'], roles: [] });
  assert.deepEqual(summaryOf({ hosts: 'db1,h2' }), { hosts: ['h2', 'db1'], roles: ['web=h2', 'job=h2'] });
  assert.deepEqual(summaryOf({ hosts: '*1' }), { hosts: ['h1', 'cache1', 'db1'], roles: ['web=h1'] });
  assert.throws(() => selectHosts(withAccessories, { hosts: 'x*' }), { message: 'no host matches --hosts "x*" (hosts: h1, h2, cache1, db1)' });
});

test('--primary selects the primary host, never an accessory-only one', () => {
  assert.deepEqual(summaryOf({ primary: true }), { hosts: ['h1'], roles: ['web=h1'] });
  assert.throws(() => selectHosts(withAccessories, { hosts: 'db1', primary: true }), { message: 'the primary host h1 is not among the selected hosts (db1)' });
});

test('hostsWithRoles keeps the selected hosts that carry a selected role (where app commands act)', () => {
  const all = selectHosts(withAccessories, {});
  assert.deepEqual(hostsWithRoles(withAccessories, all.hosts, all.roles.map((r) => r.name)), ['h1', 'h2']);
  assert.deepEqual(hostsWithRoles(withAccessories, ['h1', 'h2', 'db1'], ['job']), ['h2']);
  assert.deepEqual(hostsWithRoles(withAccessories, ['db1', 'cache1'], ['web', 'job']), []);
});
