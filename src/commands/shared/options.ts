// Options several commands share, declared once and parsed once: each adder puts the options on
// a command, each parser turns commander's strings into a typed request or stops with a usage
// error (exit 64) before any connection. Without this, `--lock-wait abc` became NaN and the
// lock code read NaN as "do not wait".
import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';

/** The lock options as commander hands them over. */
export interface LockOptionValues {
  lockWait?: string;
  force?: boolean;
}

/** How a command takes the deploy lock. */
export interface LockRequest {
  /** Seconds to wait for a lock someone else holds; undefined: fail at once. */
  readonly waitSeconds?: number;
  /** Take over a lock whose lease ran out. */
  readonly force?: boolean;
}

/**
 * Adds `--lock-wait <seconds>` and, unless force is false, `--force` (take over a stale lock).
 * `when` prefixes the help text (drift: `with --fix: `).
 */
export function lockOptions(command: Command, options: { force?: boolean; when?: string } = {}): Command {
  command.option('--lock-wait <seconds>', `${options.when ?? ''}wait this long for a held deploy lock`);
  if (options.force !== false) command.option('--force', 'take over a deploy lock whose lease ran out');
  return command;
}

/** The lock options as a request; a --lock-wait that is no number of seconds is a usage error. */
export function parseLockRequest(options: LockOptionValues): LockRequest {
  const waitSeconds = parseSeconds('--lock-wait', options.lockWait);
  return {
    ...(waitSeconds !== undefined ? { waitSeconds } : {}),
    ...(options.force ? { force: true } : {}),
  };
}

/** A number of seconds, whole or decimal, zero or more (`30`, `0.5`); undefined when the option was not given. */
export function parseSeconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new UsageError(`${flag} needs a number of seconds (e.g. ${flag} 30), got ${JSON.stringify(value)}`);
  return Number(value.trim());
}

/** A count of at least min (`0` or `1`), whole; undefined when the option was not given. */
export function parseCount(flag: string, value: string | undefined, min: 0 | 1 = 0): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min || !Number.isSafeInteger(Number(trimmed))) {
    throw new UsageError(`${flag} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}`);
  }
  return Number(trimmed);
}

/** The log options of `app logs` and `traefik logs` as commander hands them over. */
export interface LogOptionValues {
  lines?: string;
  since?: string;
  grep?: string;
  follow?: boolean;
}

/** Which log lines to show. */
export interface LogRequest {
  /** The last N lines; undefined: the command's default (100, 10 with follow, all with since or grep). */
  readonly lines?: number;
  /** Passed to docker logs --since (a time or a duration: docker says what it accepts). */
  readonly since?: string;
  /** Lines matching this regular expression (or containing it, when it is no valid one). */
  readonly grep?: string;
  readonly follow: boolean;
}

export function logOptions(command: Command): Command {
  return command
    .option('-n, --lines <n>', 'only the last N lines (default 100; 10 with --follow)')
    .option('-s, --since <time>', 'only since this time: 2026-01-02T15:04:05, 42m, 2h')
    .option('-g, --grep <pattern>', 'only lines matching this regular expression')
    .option('-f, --follow', 'keep streaming new lines from every host until Ctrl-C');
}

/** The log options as a request: --lines must be a whole number, --since must not be empty. */
export function parseLogRequest(options: LogOptionValues): LogRequest {
  const lines = parseCount('--lines', options.lines);
  if (options.since !== undefined && options.since.trim() === '') throw new UsageError('--since needs a time or a duration (e.g. 42m, 2h, 2026-01-02T15:04:05), got ""');
  return {
    ...(lines !== undefined ? { lines } : {}),
    ...(options.since !== undefined ? { since: options.since.trim() } : {}),
    ...(options.grep !== undefined && options.grep !== '' ? { grep: options.grep } : {}),
    follow: Boolean(options.follow),
  };
}
