// The dotenv format of .mrsk/secrets files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupSecret, missingSecretMessage, parseDotenv } from '../../../src/config/secrets.ts';

const parse = (text: string) => {
  const result = parseDotenv(text);
  return { values: Object.fromEntries(result.values), problems: result.problems };
};

test('KEY=VALUE lines, export prefixes, comments and blank lines', () => {
  assert.deepEqual(parse('# comment\n\nA=1\nexport B=two\n  C = spaced  \n'), { values: { A: '1', B: 'two', C: 'spaced' }, problems: [] });
});

test('quotes: single quotes are literal, double quotes understand escapes, both may span lines', () => {
  assert.deepEqual(parse(`A='$x # not a comment'\nB="line\\nnext \\"q\\""\nC="multi\nline"\nD=''\n`).values, {
    A: '$x # not a comment',
    B: 'line\nnext "q"',
    C: 'multi\nline',
    D: '',
  });
});

test('unquoted values lose trailing comments but keep inner #', () => {
  assert.deepEqual(parse('A=abc # note\nB=a#b\nC=\n').values, { A: 'abc', B: 'a#b', C: '' });
});

test('CRLF files work and the later assignment wins', () => {
  assert.deepEqual(parse('A=1\r\nA=2\r\n').values, { A: '2' });
});

test('broken lines are problems by line number and never echo values', () => {
  const { values, problems } = parse('A=1\nnot an assignment\nB="never closed\n');
  assert.deepEqual(values, { A: '1' });
  assert.deepEqual(problems, [
    { line: 2, message: 'expected NAME=value' },
    { line: 3, message: 'unterminated double quote in B' },
  ]);
});

test('lookup takes the first source that has the name; the message lists every source', () => {
  const sources = [
    { label: 'the environment', values: new Map([['A', 'env']]) },
    { label: '.mrsk/secrets', values: new Map([['A', 'file'], ['B', 'file-b']]) },
  ];
  assert.equal(lookupSecret('A', sources)?.reveal(), 'env');
  assert.equal(lookupSecret('B', sources)?.reveal(), 'file-b');
  assert.equal(String(lookupSecret('B', sources)), '[REDACTED]');
  assert.equal(lookupSecret('C', sources), undefined);
  assert.equal(missingSecretMessage('C', sources), 'secret C is not set; looked in the environment, .mrsk/secrets');
});
