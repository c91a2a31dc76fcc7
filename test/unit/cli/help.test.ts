// Every --help page ends with examples (src/cli/help.ts); a command added without examples, or
// an example for a command that is gone, fails here. Walks the program as main builds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addGlobalOptions, type Bind } from '../../../src/cli/program.ts';
import { loadCommands } from '../../../src/cli/registry.ts';
import { EXAMPLES, commandPath } from '../../../src/cli/help.ts';

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));
const commands = await loadCommands();

function program(): Command {
  const root = new Command('mrsk');
  addGlobalOptions(root);
  const bind: Bind = () => async () => undefined;
  for (const register of commands) register(root, bind);
  return root;
}

function visible(command: Command): Command[] {
  return [command, ...command.commands.filter((sub) => sub.name() !== '*').flatMap(visible)];
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
  command.outputHelp();
  return text;
}

test('every command’s help ends with one or two examples of that command, within 80 columns', () => {
  const all = visible(program());
  assert.ok(all.length > 40, `walked ${all.length} commands`);
  for (const command of all) {
    const path = commandPath(command);
    const help = helpOf(command);
    const examples = help.slice(help.indexOf('\nExamples:\n'));
    assert.ok(help.includes('\nExamples:\n'), `mrsk ${path} --help has no examples`);
    const lines = examples.split('\n').filter((line) => /^ {2}mrsk/.test(line));
    assert.ok(lines.length >= 1 && lines.length <= 2, `mrsk ${path}: ${lines.length} examples`);
    for (const line of examples.split('\n')) assert.ok(line.length <= 80, `mrsk ${path}: wider than 80 columns: ${line}`);
    // An example of a group may show one of its subcommands; a leaf shows itself at least once.
    if (command.commands.length === 0) assert.ok(lines.some((line) => line.includes(`mrsk ${path}`)), `mrsk ${path}: ${lines.join(' | ')}`);
  }
});

test('no examples for commands that do not exist', () => {
  const paths = new Set(visible(program()).map(commandPath));
  for (const key of Object.keys(EXAMPLES)) assert.ok(paths.has(key), `EXAMPLES has "${key}", which is no command`);
});

test('the real bin prints the examples (plan --help, app exec --help)', async () => {
  for (const args of [['plan', '--help'], ['app', 'exec', '--help']]) {
    const output = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('unshare', ['-n', process.execPath, bin, ...args], { env: { PATH: process.env.PATH, NO_COLOR: '1' } });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout }));
    });
    assert.equal(output.code, 0);
    assert.match(output.stdout, new RegExp(`\\nExamples:\\n {2}mrsk ${args.slice(0, -1).join(' ')} `));
  }
});
