// --hosts / --roles / --primary selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../../src/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { compileFilter, selectHosts } from '../../../src/config/select.ts';

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
