// Running one task per host in parallel while printing the results in host order: a host's
// section is released as soon as it and every host before it have finished, so a slow first
// host delays the printing (never the work) of the others and output never interleaves.

/** What one host's task produced, ready to print. */
export interface HostOutcome<T = unknown> {
  readonly host: string;
  /** True when the task finished and reported success. */
  readonly ok: boolean;
  /** Exit code of the remote command, when there was one (a transport failure has none). */
  readonly code?: number;
  /** The text to print under the host's header. */
  readonly output: string;
  /** Why the host failed, for the summary (e.g. `exit 3`, `unreachable (…)`). */
  readonly problem?: string;
  /** Extra structured data (for --json). */
  readonly data?: T;
}

/**
 * Releases items keyed by position in the order of `count` positions: `add(i, item)` returns the
 * items that can be emitted now (i and the ones after it that were waiting), in order.
 */
export class InOrderRelease<T> {
  readonly #waiting = new Map<number, T>();
  #next = 0;
  readonly #count: number;

  constructor(count: number) {
    this.#count = count;
  }

  /** Records item i; returns what is now printable, in position order. */
  add(index: number, item: T): T[] {
    if (index < 0 || index >= this.#count) throw new RangeError(`position ${index} is outside 0..${this.#count - 1}`);
    if (index < this.#next || this.#waiting.has(index)) throw new RangeError(`position ${index} was already added`);
    this.#waiting.set(index, item);
    const ready: T[] = [];
    while (this.#waiting.has(this.#next)) {
      ready.push(this.#waiting.get(this.#next)!);
      this.#waiting.delete(this.#next);
      this.#next += 1;
    }
    return ready;
  }

  /** Whether every position has been released. */
  get done(): boolean {
    return this.#next === this.#count;
  }
}

/**
 * Runs task on every host at once and calls onReady with each outcome in host order, as soon
 * as the outcomes before it are known. A task that throws becomes a failed outcome described by
 * describeError. Resolves with all outcomes in host order.
 */
export async function runPerHost<T>(
  hosts: readonly string[],
  task: (host: string) => Promise<HostOutcome<T>>,
  onReady: (outcome: HostOutcome<T>) => void,
  describeError: (host: string, error: unknown) => HostOutcome<T> = failedOutcome,
): Promise<HostOutcome<T>[]> {
  const release = new InOrderRelease<HostOutcome<T>>(hosts.length);
  const outcomes: HostOutcome<T>[] = new Array(hosts.length);
  await Promise.all(
    hosts.map(async (host, index) => {
      let outcome: HostOutcome<T>;
      try {
        outcome = await task(host);
      } catch (error) {
        outcome = describeError(host, error);
      }
      outcomes[index] = outcome;
      for (const ready of release.add(index, outcome)) onReady(ready);
    }),
  );
  return outcomes;
}

/** The default failed outcome of a task that threw: its message is the problem. */
export function failedOutcome<T>(host: string, error: unknown): HostOutcome<T> {
  // the section's header names the host; host errors' messages leave it out (src/errors.ts)
  const message = error instanceof Error ? error.message : String(error);
  return { host, ok: false, output: '', problem: message.split('\n')[0] ?? message };
}

/** `<Title> Host: <host>`, the output and a blank line, as Kamal prints per-host results. */
export function formatHostSection(title: string, outcome: HostOutcome): string {
  const header = `${title} Host: ${outcome.host}`;
  const body = outcome.output.replace(/\n+$/, '');
  const lines = [header];
  if (body) lines.push(body);
  if (!outcome.ok && outcome.problem) lines.push(`error: ${outcome.problem}`);
  // a blank line after each section, as Kamal prints them, so hosts stand apart
  return `${lines.join('\n')}\n\n`;
}

/**
 * The per-host summary after a multi-host command: one line per host and a total, e.g.
 * `10.0.0.2  FAILED  exit 3`. Empty when there was only one host and it succeeded.
 */
export function formatSummary(outcomes: readonly HostOutcome[]): string {
  const failed = outcomes.filter((o) => !o.ok);
  if (outcomes.length <= 1 && failed.length === 0) return '';
  const width = Math.max(...outcomes.map((o) => o.host.length));
  const lines = outcomes.map((o) => `  ${o.host.padEnd(width)}  ${o.ok ? 'ok' : `FAILED  ${o.problem ?? (o.code !== undefined ? `exit ${o.code}` : '')}`}`.trimEnd());
  const total = failed.length === 0 ? `${outcomes.length} host(s), all ok` : `${outcomes.length} host(s), ${failed.length} failed`;
  return `Summary: ${total}\n${lines.join('\n')}\n`;
}

/**
 * The exit code of a multi-host command: 0 when every host succeeded; with one host, that host's
 * own exit code (so scripts see `exit 3` as 3); otherwise 1.
 */
export function combinedExitCode(outcomes: readonly HostOutcome[]): number {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return 0;
  if (outcomes.length === 1) {
    const code = failed[0]!.code;
    return code !== undefined && code > 0 && code < 256 ? code : 1;
  }
  return 1;
}
