// What every command receives: the parsed global options and the output. Loading config,
// connecting to hosts etc. are done by the command through the helpers in src/commands/shared/common.ts.
import type { Output } from './output.ts';
import type { Runner } from '../ssh/types.ts';

/** Waits a run makes, shortened by the fast command tests (each one's default is in its own module). */
export interface RunTimings {
  /** How often a step polls (health, Traefik routing, drain); default 250 ms. */
  readonly pollIntervalMs?: number;
  /** The pause between "drained" and "stopped"; default 1 s. */
  readonly drainGraceMs?: number;
  /** How often a held deploy lock is asked again under --lock-wait; default 2 s. */
  readonly lockRetryMs?: number;
  /** How often the deploy lock's lease is renewed; default 60 s. */
  readonly leaseRenewMs?: number;
}

export interface GlobalOptions {
  readonly config: string; // default config/deploy.yml
  readonly destination?: string;
  /** Host filter: comma list, `*` wildcards. */
  readonly hosts?: string;
  /** Role filter: comma list, `*` wildcards. */
  readonly roles?: string;
  readonly primary?: boolean;
  readonly verbose?: boolean;
  readonly quiet?: boolean;
}

export interface CommandContext {
  readonly global: GlobalOptions;
  readonly out: Output;
  /** Working directory the command was run in. */
  readonly cwd: string;
  /** Aborted on SIGINT/SIGTERM so long operations can stop cleanly. */
  readonly signal: AbortSignal;
  /**
   * Stand-ins for the fast command tests (test/helpers/session.ts): a Runner that answers for the
   * hosts instead of SSH, and shorter waits. The CLI never sets it.
   */
  readonly testing?: { readonly runner: Runner; readonly timings?: RunTimings };
}
