// Streaming log lines from several hosts at once: chunks arrive cut anywhere, so each stream
// keeps its unfinished last line until the rest arrives; whole lines get a `host | ` prefix
// (so lines from different hosts never mix mid-line) and pass the optional --grep filter.

/** A --grep pattern as a predicate: a regular expression, or plain text when it is not a valid one. */
export function lineMatcher(pattern: string | undefined): (line: string) => boolean {
  if (pattern === undefined || pattern === '') return () => true;
  try {
    const regex = new RegExp(pattern);
    return (line) => regex.test(line);
  } catch {
    return (line) => line.includes(pattern);
  }
}

/** Splits one stream's chunks into whole lines, keeping the unfinished tail for the next chunk. */
export class LineSplitter {
  #partial = '';

  /** Returns the lines completed by this chunk (without their newline). */
  push(chunk: string): string[] {
    const text = this.#partial + chunk;
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    return parts.map((line) => line.replace(/\r$/, ''));
  }

  /** The unfinished last line, if any, once the stream has ended. */
  flush(): string[] {
    const rest = this.#partial;
    this.#partial = '';
    return rest === '' ? [] : [rest.replace(/\r$/, '')];
  }
}

/** Filters and prefixes the lines of one host's stream (dropping follow keep-alives); emit receives finished output lines. */
export class HostLineStream {
  readonly #splitter = new LineSplitter();
  readonly #prefix: string;
  readonly #matches: (line: string) => boolean;
  readonly #emit: (line: string) => void;

  constructor(prefix: string, matches: (line: string) => boolean, emit: (line: string) => void) {
    this.#prefix = prefix;
    this.#matches = matches;
    this.#emit = emit;
  }

  push(chunk: string): void {
    this.#send(this.#splitter.push(chunk));
  }

  end(): void {
    this.#send(this.#splitter.flush());
  }

  #send(lines: string[]): void {
    for (const line of lines) if (line !== FOLLOW_KEEPALIVE && this.#matches(line)) this.#emit(`${this.#prefix}${line}`);
  }
}

/** Applies --grep to a whole captured log (non-follow mode), keeping line order. */
export function filterLines(text: string, matches: (line: string) => boolean): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kept = lines.filter((line) => matches(line.replace(/\r$/, '')));
  return kept.length ? `${kept.join('\n')}\n` : '';
}

/** `host | ` padded so that the lines of hosts with names of different lengths line up. */
export function hostPrefixes(hosts: readonly string[]): Record<string, string> {
  const width = Math.max(0, ...hosts.map((h) => h.length));
  return Object.fromEntries(hosts.map((h) => [h, `${h.padEnd(width)} | `]));
}

/** A line the follow wrapper writes to stderr every few seconds; dropped on arrival. */
export const FOLLOW_KEEPALIVE = 'MRSK_FOLLOW_KEEPALIVE';

/**
 * A shell script that runs a following command (`docker logs --follow`) and kills it once the
 * SSH channel is gone. sshd refuses "signal" requests (OpenSSH: "session signalling requires
 * privilege separation") and does not kill a non-pty command when the channel closes, so a
 * follower of a quiet container would otherwise outlive mrsk. The loop writes a keep-alive line
 * to stderr; once nobody reads it any more, the write fails and the follower is killed.
 */
export function followScript(commandLine: string, intervalSeconds = 2): string {
  return [
    `${commandLine} &`,
    'follower=$!',
    'while kill -0 "$follower" 2>/dev/null; do',
    `  sleep ${intervalSeconds}`,
    `  if ! (printf '%s\\n' ${FOLLOW_KEEPALIVE} >&2); then kill "$follower" 2>/dev/null; break; fi`,
    'done',
    'wait "$follower"',
  ].join('\n');
}

const ANSI_SEQUENCE = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Removes terminal colour/cursor sequences (Traefik colours its log lines) for output that is not a terminal. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SEQUENCE, '');
}
