// The audit log's host scripts and line format, text for text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditAppendScript, auditLine, auditTailScript } from '../../../src/host/audit.ts';
import { parseAuditLine } from '../../../src/ops/audit.ts';

const time = new Date('2026-11-30T12:00:00.000Z');

test('a line: time, who, the destination when there is one, the message on one line', () => {
  assert.equal(auditLine({ time, performer: 'alice@laptop', message: 'deploy v2: applied 7 steps' }), '[2026-11-30T12:00:00.000Z] [alice@laptop] deploy v2: applied 7 steps');
  const line = auditLine({ time, performer: 'alice@laptop', destination: 'staging', message: 'app exec\nrails c' });
  assert.equal(line, '[2026-11-30T12:00:00.000Z] [alice@laptop] [staging] app exec rails c');
  // what `mrsk audit --json` reads back
  assert.deepEqual(parseAuditLine(line, 'staging'), { line, time: '2026-11-30T12:00:00.000Z', performer: 'alice@laptop', destination: 'staging', message: 'app exec rails c' });
});

test('append: the folder first, the line quoted as one word', () => {
  assert.deepEqual(auditAppendScript({ service: 'app' }, '[t] [a@b] deploy'), { script: "mkdir -p .mrsk/app && printf '%s\\n' '[t] [a@b] deploy' >> .mrsk/app/audit.log" });
  assert.deepEqual(auditAppendScript({ service: 'app', destination: 'staging' }, "it's $(here) `too`"), {
    script: "mkdir -p .mrsk/app-staging && printf '%s\\n' 'it'\\''s $(here) `too`' >> .mrsk/app-staging/audit.log",
  });
});

test('tail: the last n lines, nothing without a log; n must be a positive whole number', () => {
  assert.deepEqual(auditTailScript({ service: 'app' }, 50), { script: 'if [ -f .mrsk/app/audit.log ]; then tail -n 50 .mrsk/app/audit.log; fi' });
  for (const bad of [0, -1, 2.5, Number.NaN]) assert.throws(() => auditTailScript({ service: 'app' }, bad), RangeError);
});
