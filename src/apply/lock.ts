// The deploy lock: a folder on every host touched, made atomically with mkdir, holding a JSON
// record of who holds it, for what, and until when (a lease). A lease that has run out means
// the holder died: the lock is reported as stale and may be taken over with --force. A lock
// whose holder was a process on this machine that is gone (Ctrl-C'd twice, killed, crashed) is
// taken over by the next run from this machine at once, with a warning naming the dead holder.
import { randomUUID } from 'node:crypto';
import { HostError, LockHeldError, RemoteCommandError } from '../errors.ts';
import type { LockInfo } from '../probe/types.ts';
import { acquireLockScript, LOCK_ACQUIRED, LOCK_HELD, LOCK_LOST, LOCK_RENEWED, releaseLockScript, renewLockScript } from '../host/lock.ts';
import { auditAppendScript, auditLine } from '../host/audit.ts';
import { sanitizeHostText, sanitizeHostValue } from '../text/sanitize.ts';
import { run, sleep, type Remote } from './remote.ts';
import { currentPlace, holderGoneHere, isStale, legacyHolderDeadHere, whoAmI, type LockRecord } from './lock-holder.ts';

export const DEFAULT_LEASE_SECONDS = 15 * 60;
/** How often a held lock's lease is extended. */
export const RENEW_INTERVAL_MS = 60_000;
/** How often a held lock is asked again under --lock-wait. */
export const RETRY_INTERVAL_MS = 2000;
/** Clean-up commands (release, audit) get this long per host, so that an interrupted run ends promptly. */
const CLEANUP_TIMEOUT_MS = 30_000;

export interface LockRequest {
  readonly service: string;
  readonly destination?: string;
  readonly command: string;
  readonly message?: string;
  readonly leaseSeconds?: number;
  /** Take over a lock whose lease has run out (or any lock with forceAny). */
  readonly force?: boolean;
  /** Wait up to this many seconds for a held lock to be released. */
  readonly waitSeconds?: number;
  /** Held by a person, not by this process (`mrsk lock acquire`): no pid is recorded, so the lock does not turn stale when this process exits. */
  readonly manual?: boolean;
  /** Where warnings go (a take-over, a failed lease renewal); default: the handler set with setLockWarningHandler. */
  readonly onWarning?: (message: string) => void;
  /** How often withLock extends the lease (default RENEW_INTERVAL_MS). */
  readonly renewIntervalMs?: number;
  /** How often a held lock is asked again while waiting (default RETRY_INTERVAL_MS). */
  readonly retryIntervalMs?: number;
}

let defaultWarningHandler: (message: string) => void = () => {};

/** Sets where lock warnings go when a request names no onWarning (the CLI sets its output). */
export function setLockWarningHandler(handler: (message: string) => void): void {
  defaultWarningHandler = handler;
}

const warnOf = (request: Pick<LockRequest, 'onWarning'>) => request.onWarning ?? ((message: string) => defaultWarningHandler(message));

/** What one lease renewal did on each host. */
export interface RenewReport {
  readonly renewed: readonly string[];
  /** The host did not answer, or the command failed: the lease there runs until its old end. */
  readonly failed: readonly { readonly host: string; readonly reason: string }[];
  /** The lock is no longer ours there (removed, or taken over by someone else). */
  readonly lost: readonly { readonly host: string; readonly reason: string }[];
}

export interface HeldLock {
  readonly info: LockInfo;
  readonly hosts: readonly string[];
  /** Extends the lease on every host; says where that did not work. */
  renew(): Promise<RenewReport>;
  /** Releases the lock on every host; throws a LockHeldError naming the hosts where that failed and how to clear them. */
  release(): Promise<void>;
}

export type LockAttempt = { acquired: true } | { acquired: false; holder?: LockInfo; stale: boolean };

function makeInfo(request: LockRequest, id: string): LockRecord {
  const now = Date.now();
  return {
    id,
    holder: whoAmI(),
    command: request.command,
    message: request.message,
    acquiredAt: new Date(now).toISOString(),
    leaseExpiresAt: new Date(now + (request.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000).toISOString(),
    ...(request.manual ? {} : { pid: process.pid, place: currentPlace() }),
  };
}

/** Text a host sent, safe to print on one line: no escape sequences or control characters (a hostile host could send them). */
function printable(text: string): string {
  return sanitizeHostText(text).replace(/[\n\t]/g, ' ');
}

/** "in 14 min" / "3 min ago", to read a lease end at a glance. */
export function relativeTime(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return 'unknown';
  const abs = Math.abs(ms);
  const amount = abs < 90_000 ? `${Math.max(1, Math.round(abs / 1000))} s` : abs < 5_400_000 ? `${Math.round(abs / 60_000)} min` : `${(abs / 3_600_000).toFixed(1)} h`;
  return ms >= 0 ? `in ${amount}` : `${amount} ago`;
}

export function describeLock(info: LockInfo, now = Date.now()): string {
  const gone = holderGoneHere(info);
  const why = gone
    ? `its process ${info.pid} on this machine is gone — the next run from this machine takes it over`
    : legacyHolderDeadHere(info)
      ? `its process ${info.pid} on this machine is gone — take it over with --force`
      : `its lease ran out ${relativeTime(info.leaseExpiresAt, now)}; the holder is probably gone — take it over with --force`;
  const stale = isStale(info, now) ? ` (STALE: ${why})` : '';
  const lease = `lease until ${info.leaseExpiresAt}${Date.parse(info.leaseExpiresAt) >= now ? ` (${relativeTime(info.leaseExpiresAt, now)})` : ''}`;
  return printable(`held by ${info.holder} since ${info.acquiredAt} for \`${info.command}\`${info.message ? ` ("${info.message}")` : ''}, ${lease}${stale}`);
}

/** The command that clears the lock on some hosts by hand. */
export function releaseCommand(hosts: readonly string[], destination?: string): string {
  return `mrsk lock release --force${destination ? ` -d ${destination}` : ''} -h ${hosts.join(',')}`;
}

/** One attempt on one host: create the lock folder, or report who holds it. takeOver removes the lock first (only if it still has record `expectId`, when given). */
async function tryAcquire(remote: Remote, host: string, request: LockRequest, info: LockInfo, takeOver: false | { expectId?: string }): Promise<LockAttempt> {
  const result = await run(remote, host, acquireLockScript(request, takeOver), { stdin: `${JSON.stringify(info)}\n` });
  if (result.stdout.includes(LOCK_ACQUIRED)) return { acquired: true };
  const body = result.stdout.replace(LOCK_HELD, '').trim();
  let holder: LockInfo | undefined;
  try {
    const parsed = body ? sanitizeHostValue(JSON.parse(body) as LockInfo) : undefined; // host text: no control sequences
    holder = parsed && typeof parsed === 'object' && typeof parsed.id === 'string' && typeof parsed.holder === 'string' ? parsed : undefined;
  } catch {
    holder = undefined;
  }
  // A folder without a readable record was left half-made by a killed process: treat as stale.
  return { acquired: false, holder, stale: holder ? isStale(holder) : true };
}

/** The same connections without the run's abort signal: clean-up must still happen after Ctrl-C. */
function uninterruptible(remote: Remote): Remote {
  return { runner: remote.runner, secrets: remote.secrets };
}

function reasonOf(error: unknown, host: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return printable((message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message).split('\n')[0] ?? '');
}

/** Removes the lock (ours only, when id is given) on every host; returns the hosts where that failed, with why. */
async function releaseOn(
  remote: Remote,
  hosts: readonly string[],
  request: Pick<LockRequest, 'service' | 'destination'>,
  id?: string,
): Promise<{ host: string; reason: string }[]> {
  remote = uninterruptible(remote);
  const script = releaseLockScript(request, id);
  const results = await Promise.allSettled(hosts.map((host) => run(remote, host, script, { timeoutMs: CLEANUP_TIMEOUT_MS })));
  return results.flatMap((result, i) => (result.status === 'rejected' ? [{ host: hosts[i]!, reason: reasonOf(result.reason, hosts[i]!) }] : []));
}

/** The sentence a result carries when the lock stayed on some hosts. */
export function stuckLockText(stuck: readonly { host: string; reason: string }[], destination?: string, verb = 'could not be released'): string {
  const where = stuck.map((s) => `${s.host} (${s.reason})`).join(', ');
  return (
    `The deploy lock ${verb} on ${where}: it blocks other runs there until its lease ends ` +
    `(a run from this machine takes it over once this process has exited). Clear it with \`${releaseCommand(stuck.map((s) => s.host), destination)}\`.`
  );
}

/** A connection that never opened ran nothing on the host: there is no lock there to release. */
function neverRan(error: unknown): boolean {
  return error instanceof HostError && (error.beforeSession || ['unreachable', 'auth-failed', 'host-key-changed', 'host-key-unknown'].includes(error.kind));
}

/** Takes the lock on every host, or none: on any refusal or error the hosts already locked are released. */
export async function acquireLock(remote: Remote, hosts: readonly string[], request: LockRequest): Promise<HeldLock> {
  const id = randomUUID();
  const warn = warnOf(request);
  let info = makeInfo(request, id);
  const deadline = Date.now() + (request.waitSeconds ?? 0) * 1000;
  for (;;) {
    const attemptOn = async (host: string): Promise<LockAttempt> => {
      let attempt = await tryAcquire(remote, host, request, info, false);
      if (!attempt.acquired && attempt.holder?.id === id) return { acquired: true };
      if (attempt.acquired) return attempt;
      const holder = attempt.holder;
      if (holder && holderGoneHere(holder)) {
        attempt = await tryAcquire(remote, host, request, info, { expectId: holder.id });
        if (attempt.acquired) {
          warn(printable(`${host}: took over the deploy lock of ${holder.holder}'s \`${holder.command}\` (since ${holder.acquiredAt}): its process ${holder.pid} on this machine is gone`));
        }
      } else if (request.force && attempt.stale) {
        attempt = await tryAcquire(remote, host, request, info, holder ? { expectId: holder.id } : {});
        if (attempt.acquired) warn(`${host}: took over a stale deploy lock (--force): ${holder ? describeLock(holder) : 'the lock folder had no readable record'}`);
      }
      return attempt;
    };
    // The first host decides between two racing runs (whoever holds it gets the rest); the others
    // are then taken at once, one round trip each. Any refusal or error releases the hosts that were taken.
    const [first, ...rest] = hosts;
    const settled: { host: string; outcome: PromiseSettledResult<LockAttempt> }[] = [];
    if (first !== undefined) {
      const [outcome] = await Promise.allSettled([attemptOn(first)]);
      settled.push({ host: first, outcome: outcome! });
      if (outcome!.status === 'fulfilled' && outcome!.value.acquired && !remote.signal?.aborted) {
        const outcomes = await Promise.allSettled(rest.map(attemptOn));
        settled.push(...outcomes.map((outcome, i) => ({ host: rest[i]!, outcome })));
      }
    }
    const failedAt = settled.find((s) => s.outcome.status === 'rejected');
    const refusals = settled.flatMap((s) =>
      s.outcome.status === 'fulfilled' && !s.outcome.value.acquired ? [{ host: s.host, holder: s.outcome.value.holder, stale: s.outcome.value.stale }] : [],
    );
    const complete = settled.length === hosts.length && !failedAt && refusals.length === 0;
    if (complete && !remote.signal?.aborted) break;

    // Release what this attempt took: the hosts that said so, and those whose answer was lost
    // (the lock may have been made there); only our own record is ever removed.
    const inDoubt = settled.filter((s) => (s.outcome.status === 'fulfilled' ? s.outcome.value.acquired : !neverRan(s.outcome.reason))).map((s) => s.host);
    const stuck = await releaseOn(remote, inDoubt, request, id);
    const stuckText = stuck.length ? `\n${stuckLockText(stuck, request.destination)}` : '';
    if (failedAt && failedAt.outcome.status === 'rejected') {
      const error = failedAt.outcome.reason;
      if (error instanceof Error) {
        error.message += `${stuckText || (inDoubt.length && !remote.signal?.aborted ? `\nThe deploy lock taken meanwhile was released on ${inDoubt.join(', ')}.` : '')}`;
        throw error;
      }
      throw new HostError(failedAt.host, `${String(error)}${stuckText}`);
    }
    if (remote.signal?.aborted) throw new LockHeldError(`interrupted while taking the deploy lock${stuckText}`);
    if (Date.now() < deadline) {
      await sleep(Math.min(request.retryIntervalMs ?? RETRY_INTERVAL_MS, deadline - Date.now()), remote.signal);
      info = makeInfo(request, id);
      continue;
    }
    throw new LockHeldError(refusalText(refusals, request) + stuckText);
  }
  return heldLock(remote, hosts, request, info);
}

/** Why the lock could not be taken, and what to do about it. */
function refusalText(refusals: readonly { host: string; holder?: LockInfo; stale: boolean }[], request: LockRequest, now = Date.now()): string {
  const [refusal] = refusals;
  if (!refusal) return 'the deploy lock could not be taken';
  const hosts = refusals.map((r) => r.host);
  const release = `\`${releaseCommand(hosts, request.destination)}\``;
  if (!refusal.holder) {
    return `the deploy lock on ${refusal.host} is held, but its record is missing (left by a killed run): run again with --force to take it over, or release it with ${release}.`;
  }
  const holder = refusal.holder;
  const head = `the deploy lock on ${hosts.join(', ')} is ${describeLock(holder, now)}.`;
  if (refusal.stale) return `${head} Run again with --force to take it over, or release it with ${release}.`;
  const leaseEnd = `${holder.leaseExpiresAt} (${relativeTime(holder.leaseExpiresAt, now)})`;
  return request.force
    ? `${head} --force takes over only a stale lock (its lease ran out, or its process on this machine is gone). ` +
        `If you are sure its holder is gone, break it with ${release}; otherwise wait until its lease ends at ${leaseEnd}.`
    : `${head} Wait for it (--lock-wait SECONDS) or ask ${printable(holder.holder)}; \`mrsk lock status\` shows it. ` +
        `If you are sure its holder is gone, break it with ${release}.`;
}

function heldLock(remote: Remote, hosts: readonly string[], request: LockRequest, first: LockRecord): HeldLock {
  let info = first;
  return {
    get info() {
      return info;
    },
    hosts,
    async renew(): Promise<RenewReport> {
      info = { ...info, leaseExpiresAt: new Date(Date.now() + (request.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000).toISOString() };
      // Only our own record is rewritten, never one that took over from us.
      const script = renewLockScript(request, info.id);
      const results = await Promise.allSettled(
        hosts.map((host) => run(uninterruptible(remote), host, script, { stdin: `${JSON.stringify(info)}\n`, timeoutMs: CLEANUP_TIMEOUT_MS })),
      );
      const renewed: string[] = [];
      const failed: { host: string; reason: string }[] = [];
      const lost: { host: string; reason: string }[] = [];
      results.forEach((result, i) => {
        const host = hosts[i]!;
        if (result.status === 'rejected') failed.push({ host, reason: reasonOf(result.reason, host) });
        else if (result.value.stdout.includes(LOCK_RENEWED)) renewed.push(host);
        else {
          const body = result.value.stdout.replace(LOCK_LOST, '').trim();
          let other: LockInfo | undefined;
          try {
            other = body ? (JSON.parse(body) as LockInfo) : undefined;
          } catch {
            other = undefined;
          }
          lost.push({ host, reason: other?.holder ? `now ${describeLock(other)}` : 'the lock was removed' });
        }
      });
      return { renewed, failed, lost };
    },
    async release() {
      const stuck = await releaseOn(remote, hosts, request, info.id);
      if (stuck.length) throw new LockHeldError(stuckLockText(stuck, request.destination));
    },
  };
}

/** Releases the lock whoever holds it (`mrsk lock release --force`); throws naming the hosts where that failed. */
export async function forceRelease(remote: Remote, hosts: readonly string[], request: Pick<LockRequest, 'service' | 'destination'>): Promise<void> {
  const stuck = await releaseOn(remote, hosts, request);
  if (stuck.length) throw new LockHeldError(`the deploy lock could not be released on ${stuck.map((s) => `${s.host} (${s.reason})`).join(', ')}`);
}

/**
 * Extends the lease every interval while fn runs. A renewal that fails is a warning (the lease
 * still runs until its last end); one that finds the lock gone, or a lease that ran out before a
 * renewal worked, means the lock is lost: a warning at once, and `signal` aborts with a
 * LockHeldError, so that the work still running stops instead of changing hosts another run may
 * now be changing too.
 */
function keepLeaseAlive(lock: HeldLock, request: LockRequest) {
  const warn = warnOf(request);
  const leaseEnd = new Map(lock.hosts.map((host) => [host, Date.parse(lock.info.leaseExpiresAt)]));
  const lost = new Map<string, string>();
  const onLoss = new AbortController();
  const lose = (host: string, reason: string) => {
    lost.set(host, reason);
    if (!onLoss.signal.aborted) onLoss.abort(new LockHeldError(lostLockText(lost)));
  };
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    const attemptedEnd = Date.parse(lock.info.leaseExpiresAt);
    running = lock
      .renew()
      .then((report) => {
        const newEnd = Date.parse(lock.info.leaseExpiresAt);
        for (const host of report.renewed) leaseEnd.set(host, newEnd);
        for (const { host, reason } of report.failed) {
          if (lost.has(host)) continue;
          const end = leaseEnd.get(host) ?? attemptedEnd;
          if (end < Date.now()) {
            warn(`${host}: the deploy lock's lease ran out and could not be renewed (${reason}): another run may take the lock over; this run stops`);
            lose(host, `its lease ran out at ${new Date(end).toISOString()} and could not be renewed (${reason})`);
          } else {
            warn(`${host}: could not renew the deploy lock's lease (${reason}); it stays ours until ${new Date(end).toISOString()} (${relativeTime(new Date(end).toISOString())})`);
          }
        }
        for (const { host, reason } of report.lost) {
          if (lost.has(host)) continue;
          warn(`${host}: the deploy lock is no longer ours (${reason}): another run may change this host; this run stops`);
          lose(host, reason);
        }
      })
      // renew() settles every host itself: an error here is a bug in it, said and not fatal
      .catch((error: unknown) => warn(`could not renew the deploy lock's lease: ${(error as Error).message}`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, request.renewIntervalMs ?? RENEW_INTERVAL_MS);
  timer.unref();
  return {
    lost,
    signal: onLoss.signal,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** What a run that lost the lock says: where, why, and what to look at. */
function lostLockText(lost: ReadonlyMap<string, string>): string {
  return (
    `the deploy lock was lost during the run on ${[...lost].map(([host, reason]) => `${host} (${reason})`).join(', ')}: ` +
    'another run may have changed those hosts meanwhile; `mrsk plan` shows where they stand.'
  );
}

/**
 * Runs fn while holding the lock, renewing the lease; always releases. fn gets a signal that
 * aborts on the run's own interrupt and when the lock is lost (its reason is then a
 * LockHeldError): work that passes it on stops at once. A lock lost during the run fails the run
 * with a LockHeldError (exit 75) whatever fn did, carrying fn's own error text; a release that
 * fails is part of the result too: fn's error says so, or a LockHeldError does.
 */
export async function withLock<T>(
  remote: Remote,
  hosts: readonly string[],
  request: LockRequest,
  fn: (lock: HeldLock, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(remote, hosts, request);
  const lease = keepLeaseAlive(lock, request);
  const signal = remote.signal ? AbortSignal.any([remote.signal, lease.signal]) : lease.signal;
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await fn(lock, signal) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  await lease.stop();
  const problems: string[] = [];
  let released = false;
  try {
    await lock.release();
    released = true;
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (lease.lost.size) {
    const what = outcome.ok ? 'The command finished regardless.' : `The run stopped with: ${(outcome.error as Error)?.message ?? String(outcome.error)}`;
    throw new LockHeldError([lostLockText(lease.lost), what, ...problems].join('\n'), outcome.ok ? undefined : { cause: outcome.error });
  }
  if (!outcome.ok) {
    const error = outcome.error;
    if (error instanceof Error) {
      if (problems.length) error.message += `\n${problems.join('\n')}`;
      else if (released && remote.signal?.aborted) error.message += `\nThe deploy lock was released on ${hosts.join(', ')}.`;
    }
    throw error;
  }
  if (problems.length) throw new LockHeldError(`the command finished, but: ${problems.join('\n')}`);
  return outcome.value;
}

/** Appends a line to the audit log on each host: when, who, what; throws naming the hosts where that failed. */
export async function audit(remote: Remote, hosts: readonly string[], service: string, destination: string | undefined, message: string): Promise<void> {
  const failed = await appendAudit(remote, hosts, service, destination, message);
  if (failed.length) throw new HostError(failed.map((f) => f.host).join(', '), `the audit log line was not written on ${failed.map((f) => `${f.host} (${f.reason})`).join(', ')}`);
}

/**
 * The same, for a command whose work is done (or failed for its own reason): an audit line that
 * cannot be written never fails it. Each host where it failed is said through `report` (the
 * command's warning, or its debug line where the run's own error already says the host is
 * unwell); the default is the lock warning handler.
 */
export async function auditOrReport(
  remote: Remote,
  hosts: readonly string[],
  service: string,
  destination: string | undefined,
  message: string,
  report: (text: string) => void = (text) => defaultWarningHandler(text),
): Promise<void> {
  let failed: { host: string; reason: string }[];
  try {
    failed = await appendAudit(remote, hosts, service, destination, message);
  } catch (error) {
    failed = [{ host: hosts.join(', '), reason: printable((error as Error).message ?? String(error)) }];
  }
  for (const { host, reason } of failed) report(`${host}: the audit log line was not written (${reason})`);
}

async function appendAudit(remote: Remote, hosts: readonly string[], service: string, destination: string | undefined, message: string) {
  remote = uninterruptible(remote);
  const script = auditAppendScript({ service, destination }, auditLine({ time: new Date(), performer: whoAmI(), destination, message }));
  const results = await Promise.allSettled(hosts.map((host) => run(remote, host, script, { timeoutMs: CLEANUP_TIMEOUT_MS })));
  return results.flatMap((result, i) => (result.status === 'rejected' ? [{ host: hosts[i]!, reason: auditFailure(result.reason, hosts[i]!) }] : []));
}

/** Why an append failed, short: the script's text (the whole line again) is left out. */
function auditFailure(error: unknown, host: string): string {
  if (!(error instanceof RemoteCommandError)) return reasonOf(error, host);
  const last = error.stderr.trim().split('\n').pop();
  return printable(`exit ${error.code ?? 'signal'}${last ? `: ${last}` : ''}`);
}
