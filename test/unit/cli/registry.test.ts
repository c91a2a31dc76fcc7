// The command table loads one module per command line: its names must be exactly the top-level
// commands each module registers, or `mrsk NAME` would load the wrong module (or none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { Bind } from '../../../src/cli/program.ts';
import { commandTable, commandWord, loadCommands } from '../../../src/cli/registry.ts';

const bind: Bind = () => async () => undefined;

test('each table entry names the top-level commands its module registers', async () => {
  for (const entry of commandTable) {
    const root = new Command('mrsk');
    (await entry.load()).register(root, bind);
    const names = root.commands.map((c) => c.name()).filter((n) => n !== '*');
    assert.deepEqual(names, [...entry.names]);
  }
});

test('the command word is found after root options and their values', () => {
  assert.equal(commandWord(['config']), 'config');
  assert.equal(commandWord(['-c', 'x.yml', '-d', 'staging', '-v', 'deploy', '--skip-push']), 'deploy');
  assert.equal(commandWord(['--hosts', 'web-1', '--roles=web', 'app', 'logs']), 'app');
  assert.equal(commandWord(['-q', '--', 'plan']), 'plan');
  assert.equal(commandWord(['--help']), undefined);
  assert.equal(commandWord([]), undefined);
});

test('a known command loads its module only; help, unknown words and aliases load them all', async () => {
  const all = commandTable.length + 1; // + help examples and habit pointers
  assert.equal((await loadCommands(['-d', 'staging', 'redeploy'])).length, 2);
  assert.equal((await loadCommands(['config', '--json'])).length, 2);
  for (const argv of [[], ['--help'], ['help', 'deploy'], ['migrate'], ['version'], ['proxy', 'reboot']]) {
    assert.equal((await loadCommands(argv)).length, all, argv.join(' '));
  }
});
