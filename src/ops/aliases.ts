// Aliases (`aliases:` in config): a name standing for an mrsk command line, as in Kamal, e.g.
// `console: app exec -i 'bin/rails console'`. The command line is split like a POSIX shell
// splits words (quotes and backslashes; no variables, globs or operators).
import { UsageError } from '../errors.ts';

/** What `mrsk console` runs when the config has no `aliases.console`: a Rails console in a new container of the deployed version. */
export const DEFAULT_CONSOLE_ALIAS = "app exec --interactive 'bin/rails console'";

/** Splits a command line into words: '…' keeps everything literal, "…" honours \\ \" \$ \`, a bare \\ escapes the next character. */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < text.length && '\\"$`'.includes(text[i + 1]!)) word += text[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 < text.length) word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote in: ${text}`);
  if (inWord) words.push(word);
  return words;
}

/** The words of an alias, refusing one that names itself (which would loop). */
export function expandAlias(aliases: Readonly<Record<string, string>>, name: string, fallback?: string): string[] {
  const line = aliases[name] ?? fallback;
  if (line === undefined) throw new UsageError(`no alias ${name} in the config (aliases: ${Object.keys(aliases).join(', ') || 'none'})`);
  const words = splitCommandLine(line);
  if (words.length === 0) throw new UsageError(`alias ${name} is empty`);
  if (words[0] === name) throw new UsageError(`alias ${name} calls itself`);
  // Aliases of aliases could loop forever; Kamal does not chain them either.
  if (words[0] === 'alias' || words[0] === 'console') throw new UsageError(`alias ${name} runs another alias (${words[0]}); give it the mrsk command line itself`);
  return words;
}
