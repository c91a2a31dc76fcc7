// The deploy lock's host scripts: a folder made atomically with mkdir, holding the holder's JSON
// record (src/apply/lock.ts decides what to do with the answers). Each script prints a marker,
// so that an answer is told apart from a record's text. Pure: tests check the text exactly.
import { hostPaths } from '../desired/paths.ts';
import { shq } from '../shell/quote.ts';
import type { Command } from '../shell/quote.ts';

/** A `{script}` Command. */
export type HostScript = Extract<Command, { readonly script: string }>;

/** Which app on a host: mrsk keeps one folder per service and destination. */
export interface AppScope {
  readonly service: string;
  readonly destination?: string;
}

export const LOCK_ACQUIRED = 'MRSK_LOCK_ACQUIRED';
/** Printed after the holder's record (if there is one) when the lock is someone else's. */
export const LOCK_HELD = 'MRSK_LOCK_HELD';
export const LOCK_RENEWED = 'MRSK_LOCK_RENEWED';
/** Printed after the record that replaced ours (if any) when a renewal finds the lock not ours. */
export const LOCK_LOST = 'MRSK_LOCK_LOST';
/** Status answers besides the record itself. */
export const LOCK_ABSENT = 'MRSK_LOCK_ABSENT';
export const LOCK_NO_RECORD = 'MRSK_LOCK_NO_RECORD';

/** A shell test: the lock holds the record with this id (records are JSON written by mrsk: `"id":"…"`, no spaces). */
function holds(scope: AppScope, id: string): string {
  return `grep -q ${shq(`"id":"${id}"`)} ${shq(hostPaths(scope.service, scope.destination).lockHolder)} 2>/dev/null`;
}

/**
 * Takes the lock: the record arrives on stdin. Prints LOCK_ACQUIRED, or the holder's record then
 * LOCK_HELD. takeOver removes the lock first, only while it holds record `expectId` when given
 * (so that a lock taken over by a third run meanwhile is never removed). A lock folder that
 * cannot be made although none exists (no permission, read-only disk) is an error (exit 1), not
 * a lock held without a record.
 */
export function acquireLockScript(scope: AppScope, takeOver: false | { readonly expectId?: string } = false): HostScript {
  const paths = hostPaths(scope.service, scope.destination);
  const remove = !takeOver
    ? ':'
    : takeOver.expectId
      ? `{ if ${holds(scope, takeOver.expectId)}; then rm -rf ${shq(paths.lockDir)}; fi; }`
      : `rm -rf ${shq(paths.lockDir)}`;
  const script = [
    `mkdir -p ${shq(paths.root)}`,
    remove,
    `if mkdir ${shq(paths.lockDir)} 2>/dev/null; then cat > ${shq(paths.lockHolder)} && echo ${LOCK_ACQUIRED}; ` +
      // a racing run made the folder and is writing its record (mkdir, then cat): wait up to ~1 s
      // for it, so that a live holder is not reported as a killed run's lock without a record
      `elif [ -d ${shq(paths.lockDir)} ]; then i=0; while [ ! -s ${shq(paths.lockHolder)} ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i + 1)); done; cat ${shq(paths.lockHolder)} 2>/dev/null; echo; echo ${LOCK_HELD}; ` +
      `else echo ${shq(`cannot create ${paths.lockDir}`)} >&2; exit 1; fi`,
  ].join(' && ');
  return { script };
}

/** Extends the lease: the new record arrives on stdin and replaces ours (never one that took over from us) through a temporary file, so that a reader never sees half a record. Prints LOCK_RENEWED, or the record there (if any) then LOCK_LOST. */
export function renewLockScript(scope: AppScope, id: string): HostScript {
  const paths = hostPaths(scope.service, scope.destination);
  const next = `${paths.lockHolder}.new`;
  return {
    script:
      `if ${holds(scope, id)}; then ` +
      `cat > ${shq(next)} && mv ${shq(next)} ${shq(paths.lockHolder)} && echo ${LOCK_RENEWED}; ` +
      `else cat ${shq(paths.lockHolder)} 2>/dev/null; echo; echo ${LOCK_LOST}; fi`,
  };
}

/**
 * Removes the lock: only while it holds record `id` when given, whoever holds it otherwise (`lock
 * release --force`). The app's folder goes too when the lock was all it held (a run that stopped
 * before changing a host the app never ran on leaves nothing there).
 */
export function releaseLockScript(scope: AppScope, id?: string): HostScript {
  const paths = hostPaths(scope.service, scope.destination);
  const removeEmptyRoot = `rmdir ${shq(paths.root)} 2>/dev/null || true`;
  return { script: `${id ? `if ${holds(scope, id)}; then rm -rf ${shq(paths.lockDir)}; fi` : `rm -rf ${shq(paths.lockDir)}`}; ${removeEmptyRoot}` };
}

/** Prints the holder's record, LOCK_NO_RECORD for a lock folder without one, or LOCK_ABSENT. */
export function lockStatusScript(scope: AppScope): HostScript {
  const paths = hostPaths(scope.service, scope.destination);
  return { script: `if [ -d ${shq(paths.lockDir)} ]; then cat ${shq(paths.lockHolder)} 2>/dev/null || echo ${LOCK_NO_RECORD}; else echo ${LOCK_ABSENT}; fi` };
}
