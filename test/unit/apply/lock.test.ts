// The deploy lock's remote scripts, run for real by /bin/sh in a folder standing for each host's home.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, audit, describeLock, forceRelease, isStale, withLock } from '../../../src/apply/lock.ts';
import { LockHeldError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import { createShellRunner } from '../../helpers/shell-runner.ts';

async function setup() {
  const runner = createShellRunner(await mkdtemp(join(tmpdir(), 'mrsk-lock-')));
  return { runner, remote: { runner, secrets: [] as Secret[] } };
}
const request = { service: 'app', command: 'deploy v2' };

describe('deploy lock', () => {
  test('acquire creates the lock folder with a holder record on every host; release removes it', async () => {
    const { runner, remote } = await setup();
    const lock = await acquireLock(remote, ['h1', 'h2'], { ...request, message: 'ship it' });
    for (const host of ['h1', 'h2']) {
      const holder = JSON.parse(await readFile(join(runner.homeOf(host), '.mrsk/app/lock/holder.json'), 'utf8'));
      assert.equal(holder.id, lock.info.id);
      assert.equal(holder.command, 'deploy v2');
      assert.equal(holder.message, 'ship it');
      assert.equal(holder.pid, process.pid);
      assert.ok(Date.parse(holder.leaseExpiresAt) > Date.now());
    }
    await lock.release();
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);
    assert.equal(existsSync(join(runner.homeOf('h2'), '.mrsk/app/lock')), false);
  });

  test('a second acquire is refused with the holder; nothing is left half-locked', async () => {
    const { runner, remote } = await setup();
    const first = await acquireLock(remote, ['h2'], { ...request, command: 'deploy v1' });
    await assert.rejects(acquireLock(remote, ['h1', 'h2'], request), (error: Error) => {
      assert.ok(error instanceof LockHeldError);
      assert.equal(error.exitCode, 75);
      assert.match(error.message, /deploy lock on h2 is held by .*@.* for `deploy v1`/);
      return true;
    });
    // h1 was locked before h2 refused: it must have been released again
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);
    await first.release();
  });

  test('release only removes our own lock; forceRelease removes any', async () => {
    const { runner, remote } = await setup();
    const ours = await acquireLock(remote, ['h1'], request);
    // someone else takes over by hand
    const path = join(runner.homeOf('h1'), '.mrsk/app/lock/holder.json');
    const other = { ...ours.info, id: 'someone-else', holder: 'ops@elsewhere' };
    await writeFile(path, JSON.stringify(other));
    await ours.release();
    assert.ok(existsSync(path), 'release must not remove a lock someone else holds');
    await forceRelease(remote, ['h1'], request);
    assert.equal(existsSync(path), false);
  });

  test('a lease that ran out is stale and --force takes it over; a live one is not', async () => {
    const { runner, remote } = await setup();
    const old = await acquireLock(remote, ['h1'], { ...request, leaseSeconds: -1 });
    assert.ok(isStale(old.info));
    assert.match(describeLock(old.info), /STALE: .*lease ran out/);
    await assert.rejects(acquireLock(remote, ['h1'], request), /STALE.*--force/s);
    const taken = await acquireLock(remote, ['h1'], { ...request, force: true });
    const holder = JSON.parse(await readFile(join(runner.homeOf('h1'), '.mrsk/app/lock/holder.json'), 'utf8'));
    assert.equal(holder.id, taken.info.id);
    await taken.release();
    const live = await acquireLock(remote, ['h1'], request);
    await assert.rejects(acquireLock(remote, ['h1'], { ...request, force: true }), LockHeldError);
    await live.release();
  });

  test('a holder process on this machine that is gone makes the lock stale at once', () => {
    const now = Date.now();
    const info = { id: 'x', holder: `me@${hostname()}`, command: 'deploy', acquiredAt: new Date(now).toISOString(), leaseExpiresAt: new Date(now + 600_000).toISOString(), pid: 2 ** 22 + 12345 };
    assert.ok(isStale(info));
    assert.match(describeLock(info), /process \d+ on this machine is gone/);
    assert.equal(isStale({ ...info, pid: process.pid }), false);
    assert.equal(isStale({ ...info, holder: 'me@another-machine' }), false);
  });

  test('--lock-wait waits for the holder to release', async () => {
    const { remote } = await setup();
    const first = await acquireLock(remote, ['h1'], request);
    setTimeout(() => void first.release(), 300);
    const started = Date.now();
    const second = await acquireLock(remote, ['h1'], { ...request, waitSeconds: 10 });
    assert.ok(Date.now() - started >= 250);
    await second.release();
  });

  test('withLock releases on failure and renews the lease', async () => {
    const { runner, remote } = await setup();
    await assert.rejects(withLock(remote, ['h1'], request, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);
    await withLock(remote, ['h1'], { ...request, leaseSeconds: 5 }, async (lock) => {
      const before = lock.info.leaseExpiresAt;
      await new Promise((r) => setTimeout(r, 20));
      await lock.renew();
      const holder = JSON.parse(await readFile(join(runner.homeOf('h1'), '.mrsk/app/lock/holder.json'), 'utf8'));
      assert.ok(Date.parse(holder.leaseExpiresAt) > Date.parse(before));
    });
  });

  test('audit appends one line per call with time, who and what, per destination', async () => {
    const { runner, remote } = await setup();
    await audit(remote, ['h1'], 'app', 'staging', 'deploy v2: applied 7 steps');
    await audit(remote, ['h1'], 'app', 'staging', "odd 'quotes' $(and) `ticks`\nnewline");
    const text = await readFile(join(runner.homeOf('h1'), '.mrsk/app-staging/audit.log'), 'utf8');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] \[.+@.+\] \[staging\] deploy v2: applied 7 steps$/);
    assert.match(lines[1]!, /odd 'quotes' \$\(and\) `ticks` newline$/);
    assert.equal((await stat(join(runner.homeOf('h1'), '.mrsk/app-staging/audit.log'))).isFile(), true);
  });
});
