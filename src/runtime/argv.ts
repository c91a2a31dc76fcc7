// Shared helpers for the docker argv builders. Builders return raw argv (never shell text);
// src/shell/quote.ts is the only place that turns argv into a remote shell line.

/** A command line as raw words, starting with the command (the host's runtime, or a local tool). */
export type Argv = readonly string[];

/** Repeats a flag for each `key=value` pair, keys sorted so argv is stable (golden tests, spec hashes). */
export function keyValueFlags(flag: string, pairs: Readonly<Record<string, string>>): string[] {
  return Object.keys(pairs)
    .sort()
    .flatMap((key) => [flag, `${key}=${pairs[key]}`]);
}

/** Repeats a flag for each value, in the given order (order matters for volumes, ports). */
export function repeatFlag(flag: string, values: readonly string[]): string[] {
  return values.flatMap((value) => [flag, value]);
}
