// The deploy lock's host scripts, text for text: what is sent to a host is reviewed here, and a
// change to it shows in the diff. test/unit/apply/lock.test.ts runs them with a real /bin/sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireLockScript, lockStatusScript, releaseLockScript, renewLockScript } from '../../../src/host/lock.ts';

const app = { service: 'app' };
const staging = { service: 'app', destination: 'staging' };
const ID = '0b1e5c3a-7d2f-4e8b-9a61-2c4f8e0d3b7a';

test('acquire: make the folder atomically and write the record from stdin, or print the holder (waiting ~1 s for a record being written)', () => {
  assert.deepEqual(acquireLockScript(app), {
    script:
      'mkdir -p .mrsk/app && : && ' +
      'if mkdir .mrsk/app/lock 2>/dev/null; then cat > .mrsk/app/lock/holder.json && echo MRSK_LOCK_ACQUIRED; ' +
      'elif [ -d .mrsk/app/lock ]; then i=0; while [ ! -s .mrsk/app/lock/holder.json ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i + 1)); done; cat .mrsk/app/lock/holder.json 2>/dev/null; echo; echo MRSK_LOCK_HELD; ' +
      "else echo 'cannot create .mrsk/app/lock' >&2; exit 1; fi",
  });
});

test('acquire with a take-over: only the record expected is removed first; without one, any', () => {
  assert.deepEqual(acquireLockScript(staging, { expectId: ID }), {
    script:
      'mkdir -p .mrsk/app-staging && ' +
      `{ if grep -q '"id":"${ID}"' .mrsk/app-staging/lock/holder.json 2>/dev/null; then rm -rf .mrsk/app-staging/lock; fi; } && ` +
      'if mkdir .mrsk/app-staging/lock 2>/dev/null; then cat > .mrsk/app-staging/lock/holder.json && echo MRSK_LOCK_ACQUIRED; ' +
      'elif [ -d .mrsk/app-staging/lock ]; then i=0; while [ ! -s .mrsk/app-staging/lock/holder.json ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i + 1)); done; cat .mrsk/app-staging/lock/holder.json 2>/dev/null; echo; echo MRSK_LOCK_HELD; ' +
      "else echo 'cannot create .mrsk/app-staging/lock' >&2; exit 1; fi",
  });
  assert.match(acquireLockScript(app, {}).script, /^mkdir -p \.mrsk\/app && rm -rf \.mrsk\/app\/lock && if mkdir/);
});

test('renew: our record only, replaced through a temporary file; otherwise print what is there', () => {
  assert.deepEqual(renewLockScript(app, ID), {
    script:
      `if grep -q '"id":"${ID}"' .mrsk/app/lock/holder.json 2>/dev/null; then ` +
      'cat > .mrsk/app/lock/holder.json.new && mv .mrsk/app/lock/holder.json.new .mrsk/app/lock/holder.json && echo MRSK_LOCK_RENEWED; ' +
      'else cat .mrsk/app/lock/holder.json 2>/dev/null; echo; echo MRSK_LOCK_LOST; fi',
  });
});

test('release: ours only, or any (--force)', () => {
  assert.deepEqual(releaseLockScript(staging, ID), {
    script: `if grep -q '"id":"${ID}"' .mrsk/app-staging/lock/holder.json 2>/dev/null; then rm -rf .mrsk/app-staging/lock; fi; rmdir .mrsk/app-staging 2>/dev/null || true`,
  });
  assert.deepEqual(releaseLockScript(app), { script: 'rm -rf .mrsk/app/lock; rmdir .mrsk/app 2>/dev/null || true' });
});

test('status: the record, a marker for a folder without one, or a marker for no lock', () => {
  assert.deepEqual(lockStatusScript(app), {
    script: 'if [ -d .mrsk/app/lock ]; then cat .mrsk/app/lock/holder.json 2>/dev/null || echo MRSK_LOCK_NO_RECORD; else echo MRSK_LOCK_ABSENT; fi',
  });
});

test('an id is quoted as one word whatever it holds (records come from hosts)', () => {
  assert.match(releaseLockScript(app, "x' ; rm -rf / ; '").script, /^if grep -q '"id":"x'\\'' ; rm -rf \/ ; '\\''"' /);
});
