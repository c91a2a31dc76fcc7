// How the rest of mrsk runs commands on hosts. The ssh2 implementation is src/ssh/runner.ts;
// nothing outside src/ssh knows about SSH or shells.

import type { Command } from '../shell/quote.ts';

/** A command: raw argv (quoted by src/shell/quote.ts) or a shell script built from quoted parts. */
export type { Command };

export interface ExecOptions {
  /** Kill the channel and reject with TimeoutError after this long (default: ssh.commandTimeout). */
  readonly timeoutMs?: number;
  /** Written to the command's stdin, then closed (e.g. a registry password). */
  readonly stdin?: string | Buffer;
  /** Decoded output as it arrives, exactly as the host sent it (not sanitized: streams the user asked to see). */
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
  /**
   * Most bytes of stdout + stderr read from this command (default: the runner's maxOutputBytes,
   * 16 MiB). Past it the command is killed and the call rejects with OutputLimitError, so a
   * broken or hostile host cannot grow mrsk's memory without bound. Infinity only for a stream
   * meant to run without end (`app logs -f`), together with keepOutput: false.
   */
  readonly maxOutputBytes?: number;
  /** false: output only reaches onStdout/onStderr and the result's stdout/stderr are empty (default true). */
  readonly keepOutput?: boolean;
  /** Allocate a pseudo-terminal and wire it to this process's stdin/stdout (interactive exec). */
  readonly pty?: boolean;
  /** Abort (closes the channel) when this signal fires. */
  readonly signal?: AbortSignal;
}

/**
 * What a command left. stdout and stderr are exactly what the host sent (a transport does not
 * alter data): before printing any of it, sanitize it (src/text/sanitize.ts), since a host can
 * send terminal control sequences.
 */
export interface ExecResult {
  readonly code: number; // a signal or a missing exit status is reported as 255
  readonly stdout: string;
  readonly stderr: string;
}

export interface Runner {
  /** Runs a command; resolves with its result whatever the exit code; rejects on transport errors (HostError) or timeout. */
  exec(host: string, command: Command, options?: ExecOptions): Promise<ExecResult>;
  /** Writes content to a file on the host with the given mode (created 0600 before content arrives). */
  upload(host: string, remotePath: string, content: string | Buffer, mode: number): Promise<void>;
  /** The default per-command timeout (ssh.command_timeout), so callers can stay within it. */
  readonly commandTimeoutMs?: number;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
  /** Counters for benchmarks: connections opened and commands run per host. */
  stats(): Readonly<Record<string, { connections: number; commands: number }>>;
}
