// The shared option parsers (src/commands/shared/options.ts): every string commander can hand
// over either becomes a typed request or a usage error (exit 64) that names the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { UsageError } from '../../../src/errors.ts';
import { lockOptions, logOptions, parseCount, parseLockRequest, parseLogRequest, parseSeconds } from '../../../src/commands/shared/options.ts';

function usageError(flag: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof UsageError, `a UsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 64);
    assert.match(error.message, new RegExp(`^${flag} needs `));
    return true;
  };
}

test('parseLockRequest: no options, no wait and no force', () => {
  assert.deepEqual(parseLockRequest({}), {});
  assert.deepEqual(parseLockRequest({ force: false }), {});
});

test('parseLockRequest: --lock-wait as whole or decimal seconds, --force as true', () => {
  assert.deepEqual(parseLockRequest({ lockWait: '30' }), { waitSeconds: 30 });
  assert.deepEqual(parseLockRequest({ lockWait: '0' }), { waitSeconds: 0 });
  assert.deepEqual(parseLockRequest({ lockWait: '0.5', force: true }), { waitSeconds: 0.5, force: true });
  assert.deepEqual(parseLockRequest({ lockWait: ' 240 ' }), { waitSeconds: 240 });
  assert.deepEqual(parseLockRequest({ force: true }), { force: true });
});

test('parseLockRequest: a --lock-wait that is no number of seconds is a usage error, never NaN', () => {
  for (const value of ['abc', '', ' ', '-1', '-0.5', '1e3', '0x10', '5s', '1.', '.5', 'NaN', 'Infinity', '1,5', '3 4']) {
    assert.throws(() => parseLockRequest({ lockWait: value }), usageError('--lock-wait'), JSON.stringify(value));
  }
  assert.throws(() => parseLockRequest({ lockWait: 'abc' }), /--lock-wait needs a number of seconds \(e\.g\. --lock-wait 30\), got "abc"/);
});

test('parseSeconds names the option it reads', () => {
  assert.equal(parseSeconds('--lease', undefined), undefined);
  assert.equal(parseSeconds('--lease', '3600'), 3600);
  assert.throws(() => parseSeconds('--lease', '1h'), usageError('--lease'));
});

test('parseCount: whole numbers from min up; anything else is a usage error', () => {
  assert.equal(parseCount('--lines', undefined), undefined);
  assert.equal(parseCount('--lines', '0'), 0);
  assert.equal(parseCount('--lines', '100'), 100);
  assert.equal(parseCount('--lines', '007'), 7);
  assert.equal(parseCount('--lines', '1', 1), 1);
  assert.throws(() => parseCount('--lines', '0', 1), /--lines needs a whole number of at least 1, got "0"/);
  for (const value of ['', 'abc', '-1', '1.5', '5abc', '1e2', ' ', '99999999999999999999']) {
    assert.throws(() => parseCount('--lines', value), usageError('--lines'), JSON.stringify(value));
  }
});

test('parseLogRequest: lines as a number, since and grep passed on, follow a boolean', () => {
  assert.deepEqual(parseLogRequest({}), { follow: false });
  assert.deepEqual(parseLogRequest({ lines: '20', since: '42m', grep: 'GET /', follow: true }), { lines: 20, since: '42m', grep: 'GET /', follow: true });
  // an empty --grep matches every line: the same as none
  assert.deepEqual(parseLogRequest({ grep: '' }), { follow: false });
  assert.throws(() => parseLogRequest({ lines: 'ten' }), usageError('--lines'));
  assert.throws(() => parseLogRequest({ since: '' }), usageError('--since'));
  assert.throws(() => parseLogRequest({ since: '  ' }), usageError('--since'));
});

test('lockOptions declares --lock-wait and --force, or only --lock-wait; logOptions the four log options', () => {
  const longs = (command: Command) => command.options.map((o) => o.long);
  assert.deepEqual(longs(lockOptions(new Command('deploy'))), ['--lock-wait', '--force']);
  const drift = lockOptions(new Command('drift'), { force: false, when: 'with --fix: ' });
  assert.deepEqual(longs(drift), ['--lock-wait']);
  assert.match(drift.options[0]!.description, /^with --fix: wait this long/);
  assert.deepEqual(longs(logOptions(new Command('logs'))), ['--lines', '--since', '--grep', '--follow']);
});

test('options parsed by commander come out as the parsers expect (strings, booleans)', () => {
  const command = lockOptions(new Command('deploy')).exitOverride();
  command.parse(['--lock-wait', '12', '--force'], { from: 'user' });
  assert.deepEqual(parseLockRequest(command.opts()), { waitSeconds: 12, force: true });
});
