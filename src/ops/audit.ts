// Parsing audit log lines (written by src/apply/lock.ts#audit as
// `[<iso time>] [<user@machine>] [<destination>]? <message>`) for `mrsk audit --json`.
import { sanitizeHostText } from '../text/sanitize.ts';

/** One audit log entry; a line in another format keeps only `line`. */
export interface AuditEntry {
  readonly line: string;
  readonly time?: string;
  readonly performer?: string;
  readonly destination?: string;
  readonly message?: string;
}

const AUDIT_LINE = /^\[([^\]]+)\] \[([^\]]+)\](?: \[([^\]]+)\])? (.*)$/;

/** Splits an audit line into its parts. `destination` is only taken when the config has one. */
export function parseAuditLine(line: string, destination?: string): AuditEntry {
  const match = AUDIT_LINE.exec(line);
  if (!match) return { line };
  const [, time, performer, third, rest] = match;
  // A bracketed word after the performer is the destination only when the app has one;
  // otherwise it is part of the message (which could start with `[`).
  if (third !== undefined && destination !== undefined && third === destination) {
    return { line, time, performer, destination: third, message: rest };
  }
  return { line, time, performer, message: third !== undefined ? `[${third}] ${rest}` : rest };
}

/** The non-empty lines of a `tail` output, sanitized (the log is a host's file: no terminal control sequences). */
export function auditLines(stdout: string): string[] {
  return sanitizeHostText(stdout).split('\n').filter((line) => line.trim() !== '');
}
