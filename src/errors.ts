// Typed errors. Each carries a message a user can act on and maps to one exit code here;
// src/cli/main.ts is the only place that turns them into an exit (sysexits-style codes).
import { sanitizeHostText } from './text/sanitize.ts';

/** A problem in a config file, with the place it was found, printed as `file:line:col key.path: message`. */
export interface Diagnostic {
  file: string;
  line?: number;
  col?: number;
  /** Dotted key path with [i] for list items, e.g. `servers.web.hosts[1]`; empty for the whole file. */
  path: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line !== undefined ? `${d.file}:${d.line}:${d.col ?? 1}` : d.file;
  return d.path ? `${where} ${d.path}: ${d.message}` : `${where}: ${d.message}`;
}

export abstract class MrskError extends Error {
  abstract readonly exitCode: number;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Wrong command line: unknown command, option or argument (EX_USAGE). */
export class UsageError extends MrskError {
  readonly exitCode = 64;
}

/** Invalid configuration; every problem found at once (EX_CONFIG). */
export class ConfigError extends MrskError {
  readonly exitCode = 78;
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[] | string) {
    const list = typeof diagnostics === 'string' ? [{ file: '', path: '', message: diagnostics }] : diagnostics;
    super(list.map((d) => (d.file ? formatDiagnostic(d) : d.message)).join('\n'));
    this.diagnostics = list;
  }
}

/** What went wrong with a host, for the probe to map onto snapshot host states. */
export type HostErrorKind = 'unreachable' | 'auth-failed' | 'host-key-changed' | 'host-key-unknown' | 'timeout' | 'unreadable' | 'error';

/**
 * A host could not be reached or used (EX_UNAVAILABLE). The message says what, not where: the
 * host is a field, and whoever shows the error puts it in front (describeError, a host section's
 * header), so nobody has to cut it off again. The message may quote the host: it is sanitized.
 */
export class HostError extends MrskError {
  readonly exitCode: number = 69;
  readonly host: string;
  readonly kind: HostErrorKind;
  /** The SSH session never opened (a handshake that timed out): nothing ran on the host. */
  readonly beforeSession: boolean;
  constructor(host: string, message: string, options?: ErrorOptions & { kind?: HostErrorKind; beforeSession?: boolean }) {
    super(sanitizeHostText(message), options);
    this.host = host;
    this.kind = options?.kind ?? 'error';
    this.beforeSession = options?.beforeSession ?? false;
  }
}

/** The Docker daemon that builds images (local, or builder.remote) cannot be used (EX_UNAVAILABLE). */
export class BuilderError extends MrskError {
  readonly exitCode = 69;
}

/** Unknown or changed SSH host key (EX_NOPERM). */
export class HostKeyError extends HostError {
  override readonly exitCode = 77;
  constructor(host: string, message: string, options?: ErrorOptions & { kind?: 'host-key-changed' | 'host-key-unknown' }) {
    super(host, message, { ...options, kind: options?.kind ?? 'host-key-changed' });
  }
}

/**
 * A host command sent more output than mrsk reads from one command (ExecOptions.maxOutputBytes):
 * the command was killed and the host counts as unreadable.
 */
export class OutputLimitError extends HostError {
  readonly limitBytes: number;
  constructor(host: string, command: string, limitBytes: number) {
    super(host, `\`${command}\` printed more than ${formatBytes(limitBytes)}, mrsk's cap on what it reads from one host command; the command was stopped`, { kind: 'unreadable' });
    this.limitBytes = limitBytes;
  }
}

/** 16 MiB, 512 KiB, 100 B. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/**
 * A command on a host (or `local`, this machine) exited non-zero. The message shows the command,
 * never secret values, and not the host (a field, as for HostError); the stderr is sanitized.
 */
export class RemoteCommandError extends MrskError {
  readonly exitCode = 1;
  readonly host: string;
  readonly code: number | null;
  readonly stderr: string;
  constructor(host: string, command: string, code: number | null, stderr: string) {
    const clean = sanitizeHostText(stderr);
    const tail = clean.trim().split('\n').slice(-5).join('\n');
    super(`\`${command}\` failed (exit ${code ?? 'signal'})${tail ? `:\n${tail}` : ''}`);
    this.host = host;
    this.code = code;
    this.stderr = clean;
  }
}

/** A command or step ran longer than allowed; host: where, when it was one host's command. */
export class TimeoutError extends MrskError {
  readonly exitCode = 1;
  readonly host?: string;
  constructor(message: string, options?: ErrorOptions & { host?: string }) {
    super(message, options);
    if (options?.host !== undefined) this.host = options.host;
  }
}

/**
 * The line that shows an error: `<host>: <message>` for an error about one host (HostError,
 * RemoteCommandError, a host command's TimeoutError), else the message.
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const host = error instanceof HostError || error instanceof RemoteCommandError || error instanceof TimeoutError ? error.host : undefined;
  return host ? `${host}: ${message}` : message;
}

/** The deploy lock is held by someone else (EX_TEMPFAIL). */
export class LockHeldError extends MrskError {
  readonly exitCode = 75;
}

/** A saved plan no longer matches the hosts. */
export class StalePlanError extends MrskError {
  readonly exitCode = 1;
}

/** A deploy or apply step failed; the old version keeps serving. */
export class DeployError extends MrskError {
  readonly exitCode = 1;
}

/** The user declined a confirmation, or it could not be asked. */
export class AbortedError extends MrskError {
  readonly exitCode = 1;
}

/** A bug in mrsk: the message asks for a report (EX_SOFTWARE). */
export class InternalError extends MrskError {
  readonly exitCode = 70;
}
