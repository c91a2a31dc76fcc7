// What every command receives: the parsed global options and the output. Loading config,
// connecting to hosts etc. are done by the command through the helpers in src/commands/shared/common.ts.
import type { Output } from './output.ts';

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
}
