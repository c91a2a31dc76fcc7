// The deploy lock's remote scripts, run for real by /bin/sh in a folder standing for each host's home.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, audit, auditOrReport, describeLock, forceRelease, withLock } from '../../../src/apply/lock.ts';
import { currentPlace, holderGoneHere, isStale, type LockRecord } from '../../../src/apply/lock-holder.ts';
import { DeployError, describeError, HostError, LockHeldError, TimeoutError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import type { Command, ExecOptions, ExecResult, Runner } from '../../../src/ssh/types.ts';
import { acquireLockScript, LOCK_ACQUIRED, LOCK_RENEWED, releaseLockScript, renewLockScript } from '../../../src/host/lock.ts';
import { fail, ok, ScriptedRunner } from '../../helpers/scripted-runner.ts';
import { createShellRunner, type ShellRunner } from '../../helpers/local-runner.ts';

async function setup() {
  const runner = createShellRunner(await mkdtemp(join(tmpdir(), 'mrsk-lock-')));
  return { runner, remote: { runner, secrets: [] as Secret[] } };
}
const request = { service: 'app', command: 'deploy v2' };

/** The shell runner, except that commands matching `fails` reject (or answer) as given. */
function faulty(runner: ShellRunner, fails: (host: string, script: string) => Error | { code: number } | undefined): Runner {
  return {
    ...runner,
    exec(host: string, command: Command, options?: ExecOptions) {
      const fault = fails(host, 'script' in command ? command.script : command.join(' '));
      if (fault instanceof Error) return Promise.reject(fault);
      if (fault) return Promise.resolve({ code: fault.code, stdout: '', stderr: 'rm: cannot remove: Read-only file system' });
      return runner.exec(host, command, options);
    },
  };
}

/** The pid of a process of this machine that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** Puts a lock record on a host as another run would have left it. */
async function plant(runner: ShellRunner, host: string, record: LockRecord): Promise<void> {
  await mkdir(join(runner.homeOf(host), '.mrsk/app/lock'), { recursive: true });
  // at once, as a run's own write is: a renewal running meanwhile must never see half a record
  await writeFile(join(runner.homeOf(host), '.mrsk/app/lock/holder.json.tmp'), JSON.stringify(record));
  await rename(join(runner.homeOf(host), '.mrsk/app/lock/holder.json.tmp'), join(runner.homeOf(host), '.mrsk/app/lock/holder.json'));
}

function record(overrides: Partial<LockRecord> = {}): LockRecord {
  const now = Date.now();
  return {
    id: 'earlier-run',
    holder: `me@${hostname()}`,
    command: 'deploy v1',
    acquiredAt: new Date(now - 60_000).toISOString(),
    leaseExpiresAt: new Date(now + 14 * 60_000).toISOString(),
    pid: process.pid,
    place: currentPlace(),
    ...overrides,
  };
}

const holderOn = async (runner: ShellRunner, host: string) =>
  JSON.parse(await readFile(join(runner.homeOf(host), '.mrsk/app/lock/holder.json'), 'utf8')) as LockRecord;

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
    // h2 has a record of the app besides the lock: its folder stays; on h1 the lock was all there was
    await writeFile(join(runner.homeOf('h2'), '.mrsk/app/audit.log'), 'deploy v1\n');
    await lock.release();
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);
    assert.equal(existsSync(join(runner.homeOf('h2'), '.mrsk/app/lock')), false);
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app')), false, 'a folder that only held the lock is removed');
    assert.equal(await readFile(join(runner.homeOf('h2'), '.mrsk/app/audit.log'), 'utf8'), 'deploy v1\n');
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

  test('a lock folder that cannot be made although there is none is an error, not a lock held without a record', async () => {
    const { runner, remote } = await setup();
    // something that is not a folder stands where the lock folder goes (a permission error or a read-only disk answers the same)
    await mkdir(join(runner.homeOf('h1'), '.mrsk/app'), { recursive: true });
    await writeFile(join(runner.homeOf('h1'), '.mrsk/app/lock'), '');
    await assert.rejects(acquireLock(remote, ['h1'], { ...request, force: true }), (error: Error) => {
      assert.ok(!(error instanceof LockHeldError), String(error));
      assert.match(error.message, /failed \(exit 1\):\ncannot create \.mrsk\/app\/lock/);
      return true;
    });
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

  test("a lock of this machine's dead process is taken over without --force, with a warning naming the dead holder", async () => {
    const { runner, remote } = await setup();
    const pid = deadPid();
    await plant(runner, 'h1', record({ pid, holder: `alice@${hostname()}` }));
    await plant(runner, 'h2', record({ pid, holder: `alice@${hostname()}` }));
    assert.ok(holderGoneHere(record({ pid })));
    assert.match(describeLock(record({ pid })), /STALE: its process \d+ on this machine is gone — the next run from this machine takes it over/);
    const warnings: string[] = [];
    const lock = await acquireLock(remote, ['h1', 'h2'], { ...request, onWarning: (m) => warnings.push(m) });
    assert.equal((await holderOn(runner, 'h1')).id, lock.info.id);
    assert.equal((await holderOn(runner, 'h2')).id, lock.info.id);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, new RegExp(`^h1: took over the deploy lock of alice@${hostname()}'s \`deploy v1\` \\(since .*\\): its process ${pid} on this machine is gone$`));
    await lock.release();
  });

  test('a live holder here, a pid of another machine or pid namespace, or a manual lock is never taken over without --force', async () => {
    const { runner, remote } = await setup();
    const pid = deadPid();
    const here = currentPlace();
    for (const other of [
      record(), // this very process: alive
      record({ pid, place: { ...here, host: 'ci-runner-7' }, holder: 'ci@ci-runner-7' }),
      record({ pid, place: { ...here, pidNamespace: 'pid:[1]' } }), // a container on this kernel
      record({ pid, place: { ...here, bootId: 'another-boot' } }),
      record({ pid: undefined, place: undefined }), // lock acquire by hand
    ]) {
      await plant(runner, 'h1', other);
      assert.equal(holderGoneHere(other), false, JSON.stringify(other.place));
      await assert.rejects(acquireLock(remote, ['h1'], { ...request, onWarning: assert.fail }), LockHeldError);
      assert.equal((await holderOn(runner, 'h1')).id, 'earlier-run');
    }
  });

  // mrsk's tests run on Linux (the bed needs network namespaces), where /proc gives start times
  test('a reused pid does not keep a dead holder alive (Linux: the process start time differs)', () => {
    const here = currentPlace();
    assert.ok(here.pidStart, 'this process has a start time');
    assert.equal(holderGoneHere(record({ place: { ...here, pidStart: String(Number(here.pidStart) + 1) } })), true);
    assert.equal(holderGoneHere(record()), false);
  });

  test('--force on a live lock of another machine is refused, naming `mrsk lock release --force` with the hosts and when the lease ends', async () => {
    const { runner, remote } = await setup();
    const lease = new Date(Date.now() + 15 * 60_000).toISOString();
    const other = record({ holder: 'ci@ci-runner-7', pid: 4242, place: { ...currentPlace(), host: 'ci-runner-7' }, leaseExpiresAt: lease });
    await plant(runner, 'h1', other);
    await assert.rejects(acquireLock(remote, ['h1', 'h2'], { ...request, destination: undefined, force: true }), (error: Error) => {
      assert.ok(error instanceof LockHeldError);
      assert.match(error.message, /deploy lock on h1 is held by ci@ci-runner-7 .* for `deploy v1`/);
      assert.match(error.message, /--force takes over only a stale lock/);
      assert.ok(error.message.includes(`otherwise wait until its lease ends at ${lease} (in 15 min)`), error.message);
      assert.ok(error.message.includes('break it with `mrsk lock release --force -h h1`'), error.message);
      return true;
    });
    // with a destination, the command names it
    await mkdir(join(runner.homeOf('h1'), '.mrsk/app-staging/lock'), { recursive: true });
    await writeFile(join(runner.homeOf('h1'), '.mrsk/app-staging/lock/holder.json'), JSON.stringify(other));
    await assert.rejects(acquireLock(remote, ['h1'], { ...request, destination: 'staging' }), /Wait for it .*`mrsk lock release --force -d staging -h h1`/s);
  });

  test('taking the lock fails on one host: the locks taken on the others are released, and the error says so', async () => {
    const { runner } = await setup();
    // h3 times out after its lock may have been made (in doubt: released too); h2 cannot be reached at all
    const flaky = faulty(runner, (host, script) =>
      host === 'h3' && script.includes('MRSK_LOCK_ACQUIRED') ? new TimeoutError('h3: command timed out after 30000 ms') : undefined,
    );
    await assert.rejects(acquireLock({ runner: flaky, secrets: [] }, ['h1', 'h2', 'h3'], request), (error: Error) => {
      assert.ok(error instanceof TimeoutError);
      assert.match(error.message, /timed out/);
      assert.match(error.message, /The deploy lock taken meanwhile was released on h1, h2, h3/);
      return true;
    });
    for (const host of ['h1', 'h2', 'h3']) assert.equal(existsSync(join(runner.homeOf(host), '.mrsk/app/lock')), false, host);

    const unreachable = faulty(runner, (host) => (host === 'h2' ? new HostError('h2', 'connect ECONNREFUSED', { kind: 'unreachable' }) : undefined));
    await assert.rejects(acquireLock({ runner: unreachable, secrets: [] }, ['h1', 'h2'], request), (error: unknown) => /^h2: connect ECONNREFUSED\nThe deploy lock taken meanwhile was released on h1\.$/.test(describeError(error)));
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);

    // an SSH handshake that timed out ran nothing there: no release is tried on h2 (it would time out too and be reported stuck)
    const silent = faulty(runner, (host) => (host === 'h2' ? new HostError('h2', 'connect timeout: no SSH session with h2:22 within 5s', { kind: 'timeout', beforeSession: true }) : undefined));
    await assert.rejects(acquireLock({ runner: silent, secrets: [] }, ['h1', 'h2'], request), (error: unknown) =>
      /^h2: connect timeout: no SSH session with h2:22 within 5s\nThe deploy lock taken meanwhile was released on h1\.$/.test(describeError(error)));
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);
  });

  test('a lock that could not be released after a failed acquire is reported with the command that clears it', async () => {
    const { runner } = await setup();
    const broken = faulty(runner, (host, script) => {
      if (host === 'h2' && script.includes('MRSK_LOCK_ACQUIRED')) return new HostError('h2', 'connect ECONNREFUSED', { kind: 'unreachable' });
      if (host === 'h1' && script.startsWith('if grep -q') && script.includes('rm -rf')) return { code: 1 };
      return undefined;
    });
    await assert.rejects(acquireLock({ runner: broken, secrets: [] }, ['h1', 'h2'], request), (error: Error) => {
      assert.match(error.message, /The deploy lock could not be released on h1 \(.*exit 1.*\)/);
      assert.ok(error.message.includes('`mrsk lock release --force -h h1`'), error.message);
      return true;
    });
    assert.ok(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), 'the release was made to fail');
  });

  test('a failed release is not swallowed: withLock fails naming the host and the command that clears it', async () => {
    const { runner } = await setup();
    let releaseWorks = false;
    const broken = faulty(runner, (host, script) => (!releaseWorks && host === 'h2' && script.startsWith('if grep -q') && script.includes('rm -rf') ? { code: 1 } : undefined));
    const remote = { runner: broken, secrets: [] };
    await assert.rejects(withLock(remote, ['h1', 'h2'], { ...request, destination: 'staging' }, async () => 'deployed'), (error: Error) => {
      assert.ok(error instanceof LockHeldError);
      assert.match(error.message, /^the command finished, but: The deploy lock could not be released on h2 \(/);
      assert.ok(error.message.includes('`mrsk lock release --force -d staging -h h2`'), error.message);
      return true;
    });
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app-staging/lock')), false);
    assert.ok(existsSync(join(runner.homeOf('h2'), '.mrsk/app-staging/lock')));
    releaseWorks = true;
    await forceRelease(remote, ['h2'], { service: 'app', destination: 'staging' });
    // the run's own error keeps its class and exit code, and says where the lock stayed
    releaseWorks = false;
    await assert.rejects(withLock(remote, ['h1', 'h2'], request, async () => { throw new TimeoutError('h1: health check timed out'); }), (error: Error) => {
      assert.ok(error instanceof TimeoutError);
      assert.match(error.message, /^h1: health check timed out\nThe deploy lock could not be released on h2/);
      return true;
    });
  });

  test('a lock taken by someone else during the run: the run is stopped through its signal and fails with exit 75; their lock is left alone', async () => {
    const { runner } = await setup();
    const warnings: string[] = [];
    const fast = { ...request, renewIntervalMs: 30, onWarning: (m: string) => warnings.push(m) };
    const remote = { runner, secrets: [] };
    let stoppedBy: unknown;
    await assert.rejects(
      withLock(remote, ['h1', 'h2'], fast, async (_lock, signal) => {
        // someone breaks the lock on h2 and takes it; the work in progress waits on its signal
        await plant(runner, 'h2', record({ id: 'intruder', holder: 'bob@elsewhere', place: undefined, pid: undefined }));
        await new Promise((_resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the signal never fired')), 10_000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            stoppedBy = signal.reason;
            reject(new DeployError('interrupted while waiting for app-web-v3 to become healthy'));
          });
        });
      }),
      (error: Error) => {
        assert.ok(error instanceof LockHeldError, String(error));
        assert.equal(error.exitCode, 75);
        assert.match(error.message, /^the deploy lock was lost during the run on h2 \(now held by bob@elsewhere .*\): another run may have changed those hosts meanwhile; `mrsk plan` shows where they stand\.\nThe run stopped with: interrupted while waiting for app-web-v3 to become healthy$/);
        assert.ok(error.cause instanceof DeployError);
        return true;
      },
    );
    assert.ok(stoppedBy instanceof LockHeldError, 'the signal says why it fired');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^h2: the deploy lock is no longer ours \(now held by bob@elsewhere .*\): another run may change this host; this run stops$/);
    // the renewal never overwrote the intruder's record, and our release left it alone; h1 was released
    assert.equal((await holderOn(runner, 'h2')).id, 'intruder');
    assert.equal(existsSync(join(runner.homeOf('h1'), '.mrsk/app/lock')), false);
  });

  test('a lock lost while the command finishes anyway still fails it (exit 75)', async () => {
    const { runner } = await setup();
    const warnings: string[] = [];
    const deadline = Date.now() + 10_000;
    await assert.rejects(
      withLock({ runner, secrets: [] }, ['h1'], { ...request, renewIntervalMs: 30, onWarning: (m) => warnings.push(m) }, async () => {
        await forceRelease({ runner, secrets: [] }, ['h1'], request); // someone clears it by hand
        while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        return 'deployed';
      }),
      (error: Error) => {
        assert.ok(error instanceof LockHeldError);
        assert.equal(error.message, 'the deploy lock was lost during the run on h1 (the lock was removed): another run may have changed those hosts meanwhile; `mrsk plan` shows where they stand.\nThe command finished regardless.');
        return true;
      },
    );
  });

  describe('lease renewal against a scripted host', () => {
    /** A host whose lock commands answer as scripted: acquire and release work; renewals answer `renew` (by call count). */
    function scriptedLock(renew: (count: number) => ExecResult | Error) {
      const runner = new ScriptedRunner();
      let id = '';
      runner.on({ script: acquireLockScript(request).script }, (call) => {
        id = (JSON.parse(call.stdin!) as LockRecord).id;
        return ok(`${LOCK_ACQUIRED}\n`);
      });
      runner.on({ script: (script) => script === renewLockScript(request, id).script }, (_call, count) => renew(count));
      runner.on({ script: (script) => script === releaseLockScript(request, id).script }, ok());
      return runner;
    }

    test('renewals that fail while the lease still runs are warnings: the run goes on and succeeds', async () => {
      const runner = scriptedLock((count) => (count <= 2 ? new HostError('h1', 'the SSH connection was closed', { kind: 'unreachable' }) : ok(`${LOCK_RENEWED}\n`)));
      const warnings: string[] = [];
      const value = await withLock({ runner, secrets: [] }, ['h1'], { ...request, renewIntervalMs: 20, onWarning: (m) => warnings.push(m) }, async (_lock, signal) => {
        const deadline = Date.now() + 10_000;
        while (runner.calls.filter((c) => c.script?.includes(LOCK_RENEWED)).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        assert.equal(signal.aborted, false);
        return 'deployed';
      });
      assert.equal(value, 'deployed');
      assert.equal(warnings.length, 2, warnings.join('\n'));
      for (const warning of warnings) assert.match(warning, /^h1: could not renew the deploy lock's lease \(the SSH connection was closed\); it stays ours until \S+ \(in 15 min\)$/);
      assert.equal(runner.calls.at(-1)?.script, releaseLockScript(request, (JSON.parse(runner.calls[0]!.stdin!) as LockRecord).id).script, 'released last');
      runner.assertNoUnexpected();
    });

    test('renewals that fail until the lease has run out: the lock counts as lost, the work is stopped, exit 75', async () => {
      const runner = scriptedLock(() => new TimeoutError('h1: command timed out after 30000 ms'));
      const warnings: string[] = [];
      const started = Date.now();
      // a lease of 50 ms: the first renewals fail within it (warnings), the next one after it (lost)
      const lockRequest = { ...request, leaseSeconds: 0.05, renewIntervalMs: 20, onWarning: (m: string) => warnings.push(m) };
      await assert.rejects(
        withLock({ runner, secrets: [] }, ['h1'], lockRequest, (_lock, signal) =>
          new Promise((_resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('the signal never fired')), 10_000);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            });
          }),
        ),
        (error: Error) => {
          assert.ok(error instanceof LockHeldError, String(error));
          assert.equal(error.exitCode, 75);
          assert.match(error.message, /^the deploy lock was lost during the run on h1 \(its lease ran out at \S+ and could not be renewed \(command timed out after 30000 ms\)\): another run may have changed those hosts meanwhile/);
          return true;
        },
      );
      assert.ok(Date.now() - started < 5000);
      assert.match(warnings.at(-1)!, /^h1: the deploy lock's lease ran out and could not be renewed \(command timed out after 30000 ms\): another run may take the lock over; this run stops$/);
      runner.assertNoUnexpected();
    });

    test("an interrupt (the run's own signal) reaches the work through the same signal, and the lock is released", async () => {
      const runner = scriptedLock(() => ok(`${LOCK_RENEWED}\n`));
      const interrupt = new AbortController();
      await assert.rejects(
        withLock({ runner, secrets: [], signal: interrupt.signal }, ['h1'], request, (_lock, signal) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(new DeployError('interrupted')));
            interrupt.abort();
          }),
        ),
        (error: Error) => error instanceof DeployError && error.message === 'interrupted\nThe deploy lock was released on h1.',
      );
      assert.equal(runner.calls.length, 2, runner.lines().join('\n'));
      runner.assertNoUnexpected();
    });
  });

  test('auditOrReport never fails the command: each host where the line was not written is reported', async () => {
    const runner = new ScriptedRunner()
      .on({ host: 'h1', script: /^mkdir -p \.mrsk\/app && printf/ }, ok())
      .on({ host: 'h2', script: /^mkdir -p \.mrsk\/app && printf/ }, fail('sh: 1: cannot create .mrsk/app/audit.log: Read-only file system', 2))
      .on({ host: 'h3' }, new HostError('h3', 'connect ECONNREFUSED', { kind: 'unreachable' }));
    const reports: string[] = [];
    await auditOrReport({ runner, secrets: [] }, ['h1', 'h2', 'h3'], 'app', undefined, 'deploy v2: applied 7 steps', (text) => reports.push(text));
    assert.equal(reports.length, 2);
    assert.equal(reports[0], 'h2: the audit log line was not written (exit 2: sh: 1: cannot create .mrsk/app/audit.log: Read-only file system)');
    assert.equal(reports[1], 'h3: the audit log line was not written (connect ECONNREFUSED)');
    // the plain audit() throws instead, naming the hosts
    await assert.rejects(audit({ runner, secrets: [] }, ['h1', 'h2'], 'app', undefined, 'x'), (error: Error) => error instanceof HostError && error.host === 'h2' && error.message.endsWith('the audit log line was not written on h2 (exit 2: sh: 1: cannot create .mrsk/app/audit.log: Read-only file system)'));
    runner.assertNoUnexpected();
  });

  test('interrupted while taking the lock: nothing stays locked', async () => {
    const { runner } = await setup();
    const abort = new AbortController();
    // the interrupt arrives while the first host is being locked
    const slow: Runner = {
      ...runner,
      async exec(host, command, options) {
        const result = await runner.exec(host, command, options);
        if ('script' in command && command.script.includes('MRSK_LOCK_ACQUIRED')) abort.abort();
        return result;
      },
    };
    await assert.rejects(acquireLock({ runner: slow, secrets: [], signal: abort.signal }, ['h1', 'h2'], request), /interrupted while taking the deploy lock/);
    for (const host of ['h1', 'h2']) assert.equal(existsSync(join(runner.homeOf(host), '.mrsk/app/lock')), false, host);
  });

  test('what a host sends is printed without control characters', () => {
    const text = describeLock(record({ holder: 'evil\u001b]0;pwned\u0007@x', message: 'hi\u001b[2J', place: undefined, pid: undefined }));
    assert.doesNotMatch(text, /[\u0000-\u001f]/);
    assert.match(text, /held by evil@x since .*\("hi"\)/);
  });
});
