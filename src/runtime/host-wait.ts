// The loop of a script that waits on the host (for health, for Traefik): one SSH round trip for
// many looks instead of one per look, bounded by the host's clock so the caller's deadline holds.
import { toShell } from '../shell/quote.ts';
import type { Argv } from './argv.ts';

/**
 * How long a wait on the host looks, and how: until `seconds` have passed (whole seconds of the
 * host's clock, so the last look comes seconds − 1 to seconds after the first), a look every
 * `pauseSeconds`, each after `before` when given (Podman's health check, which nothing else runs),
 * and `between` after each look that did not end the wait (its output kept out, as `before`'s).
 */
export interface HostWait {
  readonly seconds: number;
  readonly pauseSeconds: number;
  readonly before?: Argv | undefined;
  readonly between?: Argv | undefined;
}

/**
 * `look` is shell text ending in `;` that looks once and `break`s (or exits) when the wait is
 * over; `after` runs once the loop ends, and prints what the caller reads.
 */
export function hostWaitScript(wait: HostWait, look: string, after: string): string {
  const quiet = (argv: Argv | undefined) => (argv ? `${toShell(argv)} >/dev/null 2>&1; ` : '');
  return `end=$(($(date +%s) + ${wait.seconds})); while :; do ${quiet(wait.before)}${look} [ "$(date +%s)" -ge "$end" ] && break; ${quiet(wait.between)}sleep ${wait.pauseSeconds}; done; ${after}`;
}
