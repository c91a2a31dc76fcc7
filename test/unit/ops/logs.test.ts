// Streaming log lines: chunk boundaries, host prefixes, --grep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterLines, FOLLOW_KEEPALIVE, followScript, HostLineStream, hostPrefixes, lineMatcher, LineSplitter, stripAnsi } from '../../../src/ops/logs.ts';

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

test('followed streams drop the keep-alive lines of the follow wrapper', () => {
  const lines: string[] = [];
  const stream = new HostLineStream('h | ', lineMatcher(undefined), (line) => lines.push(line));
  stream.push(`a\n${FOLLOW_KEEPALIVE}\nb\n`);
  assert.deepEqual(lines, ['h | a', 'h | b']);
});

test('followScript runs the follower in the background and kills it when stderr is gone', async () => {
  const { spawn } = await import('node:child_process');
  // a follower that never writes (a quiet container): only the keep-alive notices the reader left
  const child = spawn('sh', ['-c', followScript('sleep 30', 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise((r) => setTimeout(r, 1500));
  assert.match(stderr, new RegExp(`^${FOLLOW_KEEPALIVE}$`, 'm'));
  const started = Date.now();
  child.stdout.destroy();
  child.stderr.destroy(); // the reader goes away, like a closed SSH channel
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.ok(Date.now() - started < 5000, 'the wrapper ended within a few seconds');
  assert.notEqual(code, 0, 'the follower was killed');
  assert.equal(followScript('docker logs --follow x', 2).split('\n')[0], 'docker logs --follow x &');
});

test('stripAnsi removes colour sequences and keeps the text', () => {
  assert.equal(stripAnsi('\u001b[90m2026-11-26T04:29:07Z\u001b[0m \u001b[31mERR\u001b[0m \u001b[1mError\u001b[0m'), '2026-11-26T04:29:07Z ERR Error');
  assert.equal(stripAnsi('plain'), 'plain');
});
