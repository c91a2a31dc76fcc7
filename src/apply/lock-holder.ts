// Who holds a deploy lock, and whether that holder is a process on this machine that is gone:
// the record's place (host, boot, pid namespace, process start time) decides whether its pid can
// be checked here at all; a lock whose holder is gone, or whose lease ran out, is stale.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, uptime, userInfo } from 'node:os';
import type { LockInfo } from '../probe/types.ts';

export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return `${process.env.MRSK_USER ?? user}@${hostname()}`;
}

/**
 * Where the holding process runs, precisely enough to tell later whether its pid can be checked
 * here: host name, and on Linux the boot id and pid namespace (two containers or two machines may
 * share a host name; a pid means something only inside one pid namespace of one boot).
 */
export interface ProcessPlace {
  readonly host: string;
  readonly bootId?: string;
  readonly pidNamespace?: string;
  /** Seconds since the epoch when this machine booted (the check where /proc is missing). */
  readonly bootTime: number;
  /** The process's start time in clock ticks after boot (Linux), so that a reused pid is not taken for the holder. */
  readonly pidStart?: string;
}

/** The lock record as mrsk writes it: LockInfo plus the holder's place. */
export interface LockRecord extends LockInfo {
  readonly place?: ProcessPlace;
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot. */
function processStart(pid: number | 'self'): string | undefined {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // the command name (field 2) is in parentheses and may hold spaces: count from the last ')'
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

export function currentPlace(): ProcessPlace {
  let pidNamespace: string | undefined;
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    pidNamespace = undefined;
  }
  const bootId = readTrimmed('/proc/sys/kernel/random/boot_id');
  const pidStart = processStart('self');
  return {
    host: hostname(),
    ...(bootId ? { bootId } : {}),
    ...(pidNamespace ? { pidNamespace } : {}),
    bootTime: Math.round(Date.now() / 1000 - uptime()),
    ...(pidStart ? { pidStart } : {}),
  };
}

/** Whether a recorded place is this machine (same boot, same pid namespace): only then does its pid mean a process here. */
function isHere(place: ProcessPlace, here = currentPlace()): boolean {
  if (place.host !== here.host) return false;
  if (place.bootId || here.bootId) return place.bootId === here.bootId && place.pidNamespace === here.pidNamespace;
  return Math.abs(place.bootTime - here.bootTime) <= 5;
}

/** Whether process PID is gone: no such process, or the pid now belongs to a process started at another time. */
function processGone(pid: number, pidStart?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    // EPERM: a process of another user has this pid; fall through to the start-time check
  }
  if (!pidStart) return false;
  const now = processStart(pid);
  return now !== undefined && now !== pidStart;
}

/**
 * Whether the run holding the lock was a process on this machine that is gone (killed, crashed,
 * or finished without releasing). Certain only for records that say where they were made; for
 * older records a matching host name and a missing pid only make the lock stale (--force).
 */
export function holderGoneHere(info: LockInfo): boolean {
  const place = (info as LockRecord).place;
  if (!info.pid || !place || typeof place !== 'object') return false;
  return isHere(place) && processGone(info.pid, place.pidStart);
}

/** The same for records without a place (written by older mrsk): the host name must match. */
export function legacyHolderDeadHere(info: LockInfo): boolean {
  if (!info.pid || (info as LockRecord).place || info.holder.split('@').pop() !== hostname()) return false;
  return processGone(info.pid);
}

/** A lock is stale when its lease ran out, or when its holder ran here and its process is gone. */
export function isStale(info: LockInfo, now = Date.now()): boolean {
  return Date.parse(info.leaseExpiresAt) < now || holderGoneHere(info) || legacyHolderDeadHere(info);
}
