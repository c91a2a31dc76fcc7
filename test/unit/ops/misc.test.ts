// Audit lines, alias splitting, lock status and exec argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditLines, parseAuditLine } from '../../../src/ops/audit.ts';
import { DEFAULT_CONSOLE_ALIAS, expandAlias, splitCommandLine } from '../../../src/ops/aliases.ts';
import { formatLockState, LOCK_ABSENT, LOCK_NO_RECORD, lockStatusJson, parseLockStatus } from '../../../src/ops/lock-status.ts';
import { describeExec, execArgv } from '../../../src/ops/exec.ts';
import { UsageError } from '../../../src/errors.ts';

test('parseAuditLine splits time, performer, destination and message', () => {
  assert.deepEqual(parseAuditLine('[2026-11-26T04:00:00.000Z] [ann@laptop] [staging] deploy v2: applied 7 steps, version v2', 'staging'), {
    line: '[2026-11-26T04:00:00.000Z] [ann@laptop] [staging] deploy v2: applied 7 steps, version v2',
    time: '2026-11-26T04:00:00.000Z',
    performer: 'ann@laptop',
    destination: 'staging',
    message: 'deploy v2: applied 7 steps, version v2',
  });
  const plain = parseAuditLine('[2026-11-26T04:00:00.000Z] [ann@laptop] [note] deploy');
  assert.equal(plain.destination, undefined, 'no destination configured: the bracket belongs to the message');
  assert.equal(plain.message, '[note] deploy');
  assert.deepEqual(parseAuditLine('garbage'), { line: 'garbage' });
  assert.deepEqual(auditLines('a\n\nb\n'), ['a', 'b']);
});

test('splitCommandLine splits like a shell', () => {
  assert.deepEqual(splitCommandLine(DEFAULT_CONSOLE_ALIAS), ['app', 'exec', '--interactive', 'bin/rails console']);
  assert.deepEqual(splitCommandLine(`app exec "echo \\"hi\\" \\$HOME" it\\'s ''`), ['app', 'exec', 'echo "hi" $HOME', "it's", '']);
  assert.deepEqual(splitCommandLine('  lock   status  '), ['lock', 'status']);
  assert.throws(() => splitCommandLine("app exec 'open"), UsageError);
});

test('expandAlias uses the config, then the fallback, and refuses loops', () => {
  assert.deepEqual(expandAlias({ shell: "app exec -i --reuse 'sh'" }, 'shell'), ['app', 'exec', '-i', '--reuse', 'sh']);
  assert.deepEqual(expandAlias({}, 'console', 'app exec -i x'), ['app', 'exec', '-i', 'x']);
  assert.throws(() => expandAlias({ a: 'lock status' }, 'b'), /no alias b in the config \(aliases: a\)/);
  assert.throws(() => expandAlias({ console: 'console' }, 'console'), /calls itself/);
  assert.throws(() => expandAlias({ a: 'alias b', b: 'alias a' }, 'a'), /runs another alias/);
  assert.throws(() => expandAlias({ shell: 'console' }, 'shell'), /runs another alias/);
});

test('parseLockStatus reads the markers and the holder record', () => {
  const now = Date.parse('2026-11-26T05:00:00Z');
  const record = { id: 'x', holder: 'ann@laptop', command: 'deploy v2', acquiredAt: '2026-11-26T04:00:00Z', leaseExpiresAt: '2026-11-26T04:15:00Z' };
  assert.deepEqual(parseLockStatus('h', `${LOCK_ABSENT}\n`), { host: 'h', state: 'unlocked' });
  assert.deepEqual(parseLockStatus('h', LOCK_NO_RECORD), { host: 'h', state: 'broken' });
  const held = parseLockStatus('h', JSON.stringify(record), now);
  assert.deepEqual(held, { host: 'h', state: 'locked', lock: record, stale: true });
  assert.match(formatLockState(held, now), /^h: locked — held by ann@laptop since 2026-11-26T04:00:00Z for `deploy v2`, lease until 2026-11-26T04:15:00Z \(STALE/);
  assert.equal(parseLockStatus('h', JSON.stringify(record), Date.parse('2026-11-26T04:10:00Z')).state, 'locked');
  assert.deepEqual(lockStatusJson([held, { host: 'g', state: 'unlocked' }]), {
    hosts: { h: { state: 'locked', stale: true, ...record }, g: { state: 'unlocked' } },
  });
});

test('execArgv: one word runs in sh -c, several are exact argv', () => {
  assert.deepEqual(execArgv(['ls -l | wc -l']), ['sh', '-c', 'ls -l | wc -l']);
  assert.deepEqual(execArgv(['ls', '-l', 'a b']), ['ls', '-l', 'a b']);
  assert.equal(describeExec(['ls', 'a b']), 'ls "a b"');
  assert.equal(describeExec(['echo hi']), 'echo hi');
});
