// Running one task per host in parallel while printing the results in host order: a host's
// section is released as soon as it and every host before it have finished, so a slow first
// host delays the printing (never the work) of the others and output never interleaves. How a
// section and the summary read is the view's (src/views/hosts.ts).

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
