// Streaming log lines: chunk boundaries, host prefixes, --grep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterLines, HostLineStream, hostPrefixes, lineMatcher, LineSplitter } from '../../../src/ops/logs.ts';

test('LineSplitter joins lines cut across chunks and keeps the tail until flush', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push('GET /up 2'), []);
  assert.deepEqual(splitter.push('00\r\nGET /'), ['GET /up 200']);
  assert.deepEqual(splitter.push('a 404\nGET /b'), ['GET /a 404']);
  assert.deepEqual(splitter.flush(), ['GET /b']);
  assert.deepEqual(splitter.flush(), []);
});

test('HostLineStream prefixes whole lines and applies the matcher', () => {
  const lines: string[] = [];
  const stream = new HostLineStream('10.0.0.1 | ', lineMatcher('error'), (line) => lines.push(line));
  stream.push('ok\nan err');
  stream.push('or here\nfine\nlast error');
  assert.deepEqual(lines, ['10.0.0.1 | an error here']);
  stream.end();
  assert.deepEqual(lines, ['10.0.0.1 | an error here', '10.0.0.1 | last error']);
});

test('lineMatcher: regular expressions, plain text when invalid, everything when empty', () => {
  assert.equal(lineMatcher('^GET /up')('GET /up 200'), true);
  assert.equal(lineMatcher('^GET /up')('POST /up'), false);
  assert.equal(lineMatcher('a(b')('xa(by'), true, 'invalid regex is matched as text');
  assert.equal(lineMatcher(undefined)('anything'), true);
});

test('filterLines keeps matching lines in order', () => {
  assert.equal(filterLines('a 1\nb 2\na 3\n', lineMatcher('^a')), 'a 1\na 3\n');
  assert.equal(filterLines('b\n', lineMatcher('a')), '');
});

test('hostPrefixes pads host names to one width', () => {
  assert.deepEqual(hostPrefixes(['10.0.0.1', '10.0.0.12']), { '10.0.0.1': '10.0.0.1  | ', '10.0.0.12': '10.0.0.12 | ' });
});
