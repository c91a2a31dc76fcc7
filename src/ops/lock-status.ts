// `mrsk lock status`: the lock record of every host, as text (one line per host) and as JSON.
import type { LockInfo } from '../probe/types.ts';
import { describeLock } from '../apply/lock.ts';
import { isStale } from '../apply/lock-holder.ts';
import { sanitizeHostValue } from '../text/sanitize.ts';
import { abbreviateVersions } from '../plan/short-version.ts';
import { LOCK_ABSENT, LOCK_NO_RECORD } from '../host/lock.ts';

/** The lock as seen on one host: none, held (maybe stale), a folder without a record, or not readable. */
export type HostLockState =
  | { readonly host: string; readonly state: 'unlocked' }
  | { readonly host: string; readonly state: 'locked'; readonly lock: LockInfo; readonly stale: boolean }
  | { readonly host: string; readonly state: 'broken' }
  | { readonly host: string; readonly state: 'error'; readonly message: string };

/** Output markers of the status script (src/host/lock.ts), so that the record's JSON can be told from the two other answers. */
export { LOCK_ABSENT, LOCK_NO_RECORD };

/** Reads the status script's stdout (the holder JSON, or a marker) into a HostLockState. */
export function parseLockStatus(host: string, stdout: string, now = Date.now()): HostLockState {
  const text = stdout.trim();
  if (text === LOCK_ABSENT) return { host, state: 'unlocked' };
  if (text === LOCK_NO_RECORD || text === '') return { host, state: 'broken' };
  try {
    const lock = sanitizeHostValue(JSON.parse(text) as LockInfo); // host text: no control sequences
    return { host, state: 'locked', lock, stale: isStale(lock, now) };
  } catch {
    return { host, state: 'broken' };
  }
}

/** One line for a host, e.g. `10.0.0.1: locked — held by …`. */
export function formatLockState(state: HostLockState, now = Date.now()): string {
  switch (state.state) {
    case 'unlocked':
      return `${state.host}: unlocked`;
    case 'locked':
      return `${state.host}: locked — ${abbreviateVersions(describeLock(state.lock, now))}`;
    case 'broken':
      return `${state.host}: locked — the lock folder has no readable record (left by a killed run); \`mrsk lock release --force -h ${state.host}\` clears it`;
    case 'error':
      return `${state.host}: unknown — ${state.message}`;
  }
}

/** The --json document of `mrsk lock status`. */
export function lockStatusJson(states: readonly HostLockState[]): { hosts: Record<string, unknown> } {
  return {
    hosts: Object.fromEntries(
      states.map((s) => [
        s.host,
        s.state === 'locked' ? { state: s.state, stale: s.stale, ...s.lock } : s.state === 'error' ? { state: s.state, message: s.message } : { state: s.state },
      ]),
    ),
  };
}
