// `mrsk app exec`: how the user's command words become the argv run in the container.
import { PLAIN_WORD } from '../shell/quote.ts';

/**
 * One word is a shell command line (run by `sh -c`, so pipes, quotes and `&&` work as under
 * Kamal, whose commands went through a remote shell); several words are exact argv.
 */
export function execArgv(words: readonly string[]): string[] {
  if (words.length === 1) return ['sh', '-c', words[0]!];
  return [...words];
}

/** How the command is shown in headers and the audit log. */
export function describeExec(words: readonly string[]): string {
  return words.length === 1 ? words[0]! : words.map((w) => (PLAIN_WORD.test(w) ? w : JSON.stringify(w))).join(' ');
}
