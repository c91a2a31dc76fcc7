import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { commandToShell, shq, toShell } from '../../../src/shell/quote.ts';
import { HOSTILE_VALUES } from '../ssh/hostile-values.ts';


/** Runs a shell line through the system's /bin/sh (dash on Debian) and returns printf's NUL-separated words. */
function wordsThroughShell(line: string): string[] {
  const result = spawnSync('/bin/sh', ['-c', line], { cwd: '/', encoding: 'buffer' });
  assert.equal(result.status, 0, result.stderr.toString());
  const text = result.stdout.toString('utf8');
  return text.split('\0').slice(0, -1);
}

describe('shq', () => {
  it('leaves plain words unquoted', () => {
    assert.equal(shq('registry.example.com/app:1.2.3'), 'registry.example.com/app:1.2.3');
    assert.equal(shq('--label=mrsk.service=web'), '--label=mrsk.service=web');
  });

  it('single-quotes everything else and renders a single quote as \'\\\'\'', () => {
    assert.equal(shq("it's"), `'it'\\''s'`);
    assert.equal(shq('a b'), `'a b'`);
    assert.equal(shq(''), `''`);
  });

  it('refuses NUL bytes, which no shell word can carry', () => {
    assert.throws(() => shq('a\0b'), /NUL/);
  });
});

describe('toShell', () => {
  it('keeps every hostile value one literal word through /bin/sh', () => {
    const line = toShell(['printf', '%s\\0', ...HOSTILE_VALUES]);
    assert.deepEqual(wordsThroughShell(line), HOSTILE_VALUES);
  });

  it('keeps each hostile value literal also inside a larger argv (no word merges with its neighbours)', () => {
    for (const value of HOSTILE_VALUES) {
      const line = toShell(['printf', '%s\\0', 'before', value, 'after']);
      assert.deepEqual(wordsThroughShell(line), ['before', value, 'after'], `value ${JSON.stringify(value)}`);
    }
  });

  it('runs nothing embedded in values', () => {
    const line = toShell(['printf', '%s\\0', '$(echo injected >&2)', '`echo injected >&2`']);
    const result = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
    assert.equal(result.stderr, '');
  });

  it('refuses an empty argv', () => {
    assert.throws(() => toShell([]), /empty argv/);
  });
});

describe('commandToShell', () => {
  it('sends argv as one quoted line', () => {
    assert.equal(commandToShell(['docker', 'ps', '--filter', 'label=mrsk.service=a b']), `docker ps --filter 'label=mrsk.service=a b'`);
  });

  it('runs a script under sh -c, so pipes and && in it work and quotes in it survive', () => {
    const script = `printf '%s\\n' "it's" | tr a-z A-Z && echo 'done'`;
    const line = commandToShell({ script });
    assert.ok(line.startsWith('sh -c '));
    const result = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
    assert.equal(result.stdout, "IT'S\ndone\n");
  });
});
