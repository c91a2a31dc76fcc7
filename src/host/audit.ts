// The audit log's host scripts: one line appended per change, the last lines read back. The line
// format is `[<iso time>] [<user@machine>] [<destination>]? <message>` (src/ops/audit.ts parses
// it). Pure: tests check the text exactly.
import { hostPaths } from '../desired/paths.ts';
import { shq } from '../shell/quote.ts';
import type { HostScript, AppScope } from './lock.ts';

export interface AuditEntryInput {
  readonly time: Date;
  /** user@machine */
  readonly performer: string;
  readonly destination?: string;
  readonly message: string;
}

/** One audit line; a message's newlines become spaces, so that one change is one line. */
export function auditLine(entry: AuditEntryInput): string {
  return `[${entry.time.toISOString()}] [${entry.performer}]${entry.destination ? ` [${entry.destination}]` : ''} ${entry.message.replace(/\n/g, ' ')}`;
}

/** Appends a line (quoted whole: its text is the user's) to the log, making the app's folder first. */
export function auditAppendScript(scope: AppScope, line: string): HostScript {
  const paths = hostPaths(scope.service, scope.destination);
  return { script: `mkdir -p ${shq(paths.root)} && printf '%s\\n' ${shq(line)} >> ${shq(paths.auditLog)}` };
}

/** The last `lines` lines of the log; nothing when there is no log yet. */
export function auditTailScript(scope: AppScope, lines: number): HostScript {
  if (!Number.isSafeInteger(lines) || lines < 1) throw new RangeError(`audit lines must be a positive whole number, got ${lines}`);
  const log = shq(hostPaths(scope.service, scope.destination).auditLog);
  return { script: `if [ -f ${log} ]; then tail -n ${lines} ${log}; fi` };
}
