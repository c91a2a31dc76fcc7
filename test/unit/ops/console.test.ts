// How `mrsk console` / aliases pass this run's global options on to the aliased command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globalFlags } from '../../../src/commands/console.ts';

test('globalFlags repeats every given global option, and only those', () => {
  assert.deepEqual(globalFlags({ config: 'config/deploy.yml' }), ['--config', 'config/deploy.yml']);
  assert.deepEqual(globalFlags({ config: 'c.yml', destination: 'staging', hosts: '10.0.0.*', roles: 'web', primary: true, verbose: true, quiet: true }), [
    '--config', 'c.yml', '--destination', 'staging', '--hosts', '10.0.0.*', '--roles', 'web', '--primary', '--verbose', '--quiet',
  ]);
});
