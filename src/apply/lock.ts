// The deploy lock: a folder on every host touched, made atomically with mkdir, holding a JSON
// record of who holds it, for what, and until when (a lease). A lease that has run out means
// the holder died: the lock is reported as stale and may be taken over with --force.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { LockHeldError } from '../errors.ts';
import type { LockInfo } from '../probe/types.ts';
import { shq } from '../ssh/quote.ts';
import { hostPaths } from '../desired/paths.ts';
import { run, sleep, type Remote } from './remote.ts';

export const DEFAULT_LEASE_SECONDS = 15 * 60;

export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return `${process.env.MRSK_USER ?? user}@${hostname()}`;
}

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
}

export interface HeldLock {
  readonly info: LockInfo;
  readonly hosts: readonly string[];
  /** Extends the lease on every host. */
  renew(): Promise<void>;
  release(): Promise<void>;
}

export type LockAttempt = { acquired: true } | { acquired: false; holder?: LockInfo; stale: boolean };

function makeInfo(request: LockRequest, id: string): LockInfo {
  const now = Date.now();
  return {
    id,
    holder: whoAmI(),
    command: request.command,
    message: request.message,
    acquiredAt: new Date(now).toISOString(),
    leaseExpiresAt: new Date(now + (request.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000).toISOString(),
    ...(request.manual ? {} : { pid: process.pid }),
  };
}

/** Whether the process holding the lock ran on this machine and is gone (killed, crashed). */
function holderIsDeadHere(info: LockInfo): boolean {
  if (!info.pid || info.holder.split('@').pop() !== hostname()) return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A lock is stale when its lease ran out, or when its holder ran here and its process is gone. */
export function isStale(info: LockInfo, now = Date.now()): boolean {
  return Date.parse(info.leaseExpiresAt) < now || holderIsDeadHere(info);
}

export function describeLock(info: LockInfo, now = Date.now()): string {
  const why = holderIsDeadHere(info) ? `its process ${info.pid} on this machine is gone` : 'its lease ran out; the holder is probably gone';
  const stale = isStale(info, now) ? ` (STALE: ${why} — take it over with --force)` : '';
  return `held by ${info.holder} since ${info.acquiredAt} for \`${info.command}\`${info.message ? ` ("${info.message}")` : ''}, lease until ${info.leaseExpiresAt}${stale}`;
}

/** One attempt on one host: create the lock folder, or report who holds it. */
async function tryAcquire(remote: Remote, host: string, request: LockRequest, info: LockInfo, takeOver: boolean): Promise<LockAttempt> {
  const paths = hostPaths(request.service, request.destination);
  const script = [
    `mkdir -p ${shq(paths.root)}`,
    takeOver ? `rm -rf ${shq(paths.lockDir)}` : ':',
    `if mkdir ${shq(paths.lockDir)} 2>/dev/null; then cat > ${shq(paths.lockHolder)} && echo MRSK_LOCK_ACQUIRED; ` +
      `else cat ${shq(paths.lockHolder)} 2>/dev/null; echo; echo MRSK_LOCK_HELD; fi`,
  ].join(' && ');
  const result = await run(remote, host, { script }, { stdin: `${JSON.stringify(info)}\n` });
  if (result.stdout.includes('MRSK_LOCK_ACQUIRED')) return { acquired: true };
  const body = result.stdout.replace('MRSK_LOCK_HELD', '').trim();
  let holder: LockInfo | undefined;
  try {
    holder = body ? (JSON.parse(body) as LockInfo) : undefined;
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

async function releaseOn(remote: Remote, hosts: readonly string[], request: Pick<LockRequest, 'service' | 'destination'>, id?: string): Promise<void> {
  remote = uninterruptible(remote);
  const paths = hostPaths(request.service, request.destination);
  const script = id
    ? `if grep -q ${shq(`"id":"${id}"`)} ${shq(paths.lockHolder)} 2>/dev/null; then rm -rf ${shq(paths.lockDir)}; fi`
    : `rm -rf ${shq(paths.lockDir)}`;
  await Promise.all(hosts.map((host) => run(remote, host, { script })));
}

/** Takes the lock on every host, or none: on any refusal the hosts already locked are released. */
export async function acquireLock(remote: Remote, hosts: readonly string[], request: LockRequest): Promise<HeldLock> {
  const id = randomUUID();
  let info = makeInfo(request, id);
  const deadline = Date.now() + (request.waitSeconds ?? 0) * 1000;
  for (;;) {
    const attemptOn = async (host: string) => {
      let attempt = await tryAcquire(remote, host, request, info, false);
      if (!attempt.acquired && attempt.holder?.id === id) attempt = { acquired: true };
      if (!attempt.acquired && request.force && attempt.stale) attempt = await tryAcquire(remote, host, request, info, true);
      return { host, attempt };
    };
    // The first host decides between two racing runs (whoever holds it gets the rest); the others
    // are then taken at once, one round trip each. Any refusal releases the hosts that were taken.
    const [first, ...rest] = hosts;
    const attempts = first === undefined ? [] : [await attemptOn(first)];
    if (attempts[0]?.attempt.acquired) attempts.push(...(await Promise.all(rest.map(attemptOn))));
    const taken = attempts.filter((a) => a.attempt.acquired).map((a) => a.host);
    const refused = attempts.find((a) => !a.attempt.acquired);
    const refusal = refused && !refused.attempt.acquired ? { host: refused.host, holder: refused.attempt.holder, stale: refused.attempt.stale } : undefined;
    if (!refusal) break;
    await releaseOn(remote, taken, request, id);
    if (Date.now() < deadline && !remote.signal?.aborted) {
      await sleep(Math.min(2000, deadline - Date.now()), remote.signal);
      info = makeInfo(request, id);
      continue;
    }
    const who = refusal.holder ? describeLock(refusal.holder) : 'held, but its record is missing (left by a killed run; release it with `mrsk lock release --force`)';
    throw new LockHeldError(
      `the deploy lock on ${refusal.host} is ${who}. ` +
        (refusal.stale ? 'Run again with --force to take it over, or `mrsk lock release --force`.' : 'Wait for it (--lock-wait SECONDS) or ask the holder; `mrsk lock status` shows it.'),
    );
  }
  return {
    info,
    hosts,
    async renew() {
      info = { ...info, leaseExpiresAt: new Date(Date.now() + (request.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000).toISOString() };
      const paths = hostPaths(request.service, request.destination);
      await Promise.all(
        hosts.map((host) =>
          run(remote, host, { script: `test -d ${shq(paths.lockDir)} && cat > ${shq(paths.lockHolder)}` }, { stdin: `${JSON.stringify(info)}\n` }),
        ),
      );
    },
    release: () => releaseOn(remote, hosts, request, id),
  };
}

/** Releases the lock whoever holds it (`mrsk lock release --force`). */
export async function forceRelease(remote: Remote, hosts: readonly string[], request: Pick<LockRequest, 'service' | 'destination'>): Promise<void> {
  await releaseOn(remote, hosts, request);
}

/** Runs fn while holding the lock, renewing the lease every minute; always releases. */
export async function withLock<T>(remote: Remote, hosts: readonly string[], request: LockRequest, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(remote, hosts, request);
  const timer = setInterval(() => void lock.renew().catch(() => undefined), 60_000);
  timer.unref();
  try {
    return await fn(lock);
  } finally {
    clearInterval(timer);
    await lock.release().catch(() => undefined);
  }
}

/** Appends a line to the audit log on each host: when, who, what. */
export async function audit(remote: Remote, hosts: readonly string[], service: string, destination: string | undefined, message: string): Promise<void> {
  remote = uninterruptible(remote);
  const paths = hostPaths(service, destination);
  const line = `[${new Date().toISOString()}] [${whoAmI()}]${destination ? ` [${destination}]` : ''} ${message.replace(/\n/g, ' ')}`;
  await Promise.all(
    hosts.map((host) => run(remote, host, { script: `mkdir -p ${shq(paths.root)} && printf '%s\\n' ${shq(line)} >> ${shq(paths.auditLog)}` })),
  );
}
