// Which hosts a command's session holds when a host runs only accessories (db1.test, in no role):
// plan, apply, setup, drift and remove reach it by default; the commands about the app alone
// (withSession app: true: deploy, rollback, releases, prune, details, app …) never do, and
// selecting only it for them is a usage error. No host is contacted (the session is only opened).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GlobalOptions } from '../../../src/cli/context.ts';
import { appHosts } from '../../../src/commands/shared/common.ts';
import { withSession } from '../../../src/commands/shared/session.ts';
import { UsageError } from '../../../src/errors.ts';
import { commandContext } from '../../helpers/session.ts';
import { ScriptedRunner } from '../../helpers/scripted-runner.ts';

const hostsOf = async (global: Partial<GlobalOptions>, app: boolean) => {
  const runner = new ScriptedRunner();
  const ctx = commandContext(runner, { global: { destination: 'accessories', ...global } });
  const seen = await withSession(ctx, async (session) => ({ hosts: [...session.hosts], roles: [...session.roles], app: appHosts(session) }), { app });
  assert.deepEqual(runner.calls, [], 'opening a session contacts no host');
  return seen;
};

test('the default session holds the accessory-only host after the role hosts; an app session does not', async () => {
  assert.deepEqual(await hostsOf({}, false), { hosts: ['h1.test', 'h2.test', 'db1.test'], roles: ['web', 'job'], app: ['h1.test', 'h2.test'] });
  assert.deepEqual(await hostsOf({}, true), { hosts: ['h1.test', 'h2.test'], roles: ['web', 'job'], app: ['h1.test', 'h2.test'] });
});

test('--roles never holds it; --hosts selects it; an app session keeps the selected hosts with a role', async () => {
  assert.deepEqual((await hostsOf({ roles: 'web' }, false)).hosts, ['h1.test', 'h2.test']);
  assert.deepEqual(await hostsOf({ hosts: 'db1.test' }, false), { hosts: ['db1.test'], roles: [], app: [] });
  assert.deepEqual((await hostsOf({ hosts: 'db1.test,h2.test' }, true)).hosts, ['h2.test']);
});

test('an app command on the accessory-only host alone is a usage error (exit 64) saying where accessories are handled', async () => {
  await assert.rejects(hostsOf({ hosts: 'db1.test' }, true), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 64);
    assert.equal(error.message, 'db1.test carries no role of the app, only accessories: `mrsk accessory` acts on those');
    return true;
  });
});
