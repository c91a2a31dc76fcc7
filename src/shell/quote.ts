// The only place where argv becomes a remote shell line. SSH sends one string that the remote
// login shell runs as `$SHELL -c <line>`, so every word is POSIX single-quoted (the algorithm of
// Python's shlex.quote): inside '…' nothing is special, and a ' is written as '\''.
// $'…' (ANSI-C quoting) is not POSIX (dash prints it literally), so it is never used.
// Pure and dependency-free: the plan, desired state and host scripts quote with it, not only
// the SSH transport, so it lives outside src/ssh.

/**
 * A command for a host: raw argv (quoted by toShell) or a shell script built from quoted parts.
 * A script that waits on the host before it prints what one argv prints (a wait for health or
 * for Traefik: one SSH round trip instead of one per look) names that argv in `answersAs`: its
 * output has that argv's form, and a stand-in host (tests) may answer it as one run of it.
 */
export type Command = readonly string[] | { readonly script: string; readonly answersAs?: readonly string[] };

/** Words made only of these characters mean the same to every POSIX shell unquoted. */
export const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one value so a POSIX shell reads it back as exactly one word with exactly these bytes.
 * Throws on a NUL byte, which no shell word (or C argv entry) can carry.
 */
export function shq(value: string): string {
  if (value.includes('\0')) throw new TypeError('a NUL byte cannot be passed through a shell');
  if (value === '') return "''";
  if (PLAIN_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Turns argv into one shell line: each word quoted by shq, joined by spaces. */
export function toShell(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('cannot run an empty argv');
  return argv.map(shq).join(' ');
}

/**
 * The line sent over SSH for a Command. argv goes through toShell. A script is run by
 * `sh -c <script>` so that it always gets POSIX sh semantics, whatever the user's login shell
 * is (bash, zsh, fish all pass a single-quoted word through unchanged).
 */
export function commandToShell(command: Command): string {
  if (isScript(command)) return toShell(['sh', '-c', command.script]);
  return toShell(command);
}

function isScript(command: Command): command is { readonly script: string } {
  return !Array.isArray(command);
}
