// Global options given after the command name win over the program's defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addGlobalOptions, mergedOptions } from '../../../src/cli/program.ts';

function parse(argv: string[]): Record<string, unknown> {
  let seen: Record<string, unknown> = {};
  const program = addGlobalOptions(new Command('mrsk').exitOverride());
  const sub = addGlobalOptions(program.command('config').option('--json').exitOverride());
  sub.action((_options, command: Command) => {
    seen = mergedOptions(command);
  });
  program.parse(argv, { from: 'user' });
  return seen;
}

test('-c after the command wins over the program default', () => {
  assert.equal(parse(['config', '-c', 'other.yml']).config, 'other.yml');
});

test('-c before the command is kept when the command does not repeat it', () => {
  assert.equal(parse(['-c', 'before.yml', 'config']).config, 'before.yml');
});

test('without -c the default applies; command options and globals are merged', () => {
  const options = parse(['-d', 'staging', 'config', '--json']);
  assert.equal(options.config, 'config/deploy.yml');
  assert.equal(options.destination, 'staging');
  assert.equal(options.json, true);
});
