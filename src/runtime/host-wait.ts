// The loop of a script that waits on the host (for health, for Traefik): one SSH round trip for
// many looks instead of one per look, bounded by the host's clock so the caller's deadline holds.
import { toShell } from '../shell/quote.ts';
import type { Argv } from './argv.ts';

/**
 * How long a wait on the host looks, and how: until `seconds` have passed (whole seconds of the
 * host's clock, so the last look comes seconds − 1 to seconds after the first), a look every
 * `pauseSeconds`, each after `before` when given (Podman's health check, which nothing else runs),
 * and `between` after every `betweenEvery`th look (default each) that did not end the wait. Their
 * output is kept out.
 */
export interface HostWait {
  readonly seconds: number;
  readonly pauseSeconds: number;
  readonly before?: Argv | undefined;
  readonly between?: Argv | undefined;
  readonly betweenEvery?: number;
}

/**
 * `look` is shell text ending in `;` that looks once and `break`s (or exits) when the wait is
 * over; `after` runs once the loop ends, and prints what the caller reads.
 */
export function hostWaitScript(wait: HostWait, look: string, after: string): string {
  const quiet = (argv: Argv | undefined) => (argv ? `${toShell(argv)} >/dev/null 2>&1; ` : '');
  const every = Math.max(1, Math.floor(wait.betweenEvery ?? 1));
  // every look, or every nth: a count of the looks that did not end the wait
  const between = !wait.between ? '' : every === 1 ? quiet(wait.between) : `looks=$((looks + 1)); [ $((looks % ${every})) -eq 0 ] && { ${quiet(wait.between)}}; `;
  const start = wait.between && every > 1 ? 'looks=0; ' : '';
  return `${start}end=$(($(date +%s) + ${wait.seconds})); while :; do ${quiet(wait.before)}${look} [ "$(date +%s)" -ge "$end" ] && break; ${between}sleep ${wait.pauseSeconds}; done; ${after}`;
}
