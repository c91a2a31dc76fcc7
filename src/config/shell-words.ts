// A string `cmd` is split into argv words the way a POSIX shell splits a simple command (quotes
// and backslashes), and run without a shell: the app is PID 1 and receives docker stop's SIGTERM.
// Anything a shell would *do* rather than split (operators, expansions, redirections, builtins)
// is refused, with the exact list form that keeps the shell (pure).

/** The outcome of splitting a cmd string. */
export type ShellWordsResult =
  | { readonly ok: true; readonly words: readonly string[] }
  | { readonly ok: false; readonly reason: string };

// Characters that start shell syntax when unquoted.
const OPERATORS: Readonly<Record<string, string>> = {
  ';': 'a command separator ";"',
  '&': 'a background or "&&" operator',
  '|': 'a pipe or "||" operator',
  '<': 'a redirection "<"',
  '>': 'a redirection ">"',
  '(': 'a subshell "("',
  ')': 'a subshell ")"',
  '`': 'a command substitution (backticks)',
  '\n': 'a line break (several commands)',
};

// First words a shell runs itself: they are not programs, so they cannot be argv[0].
const SHELL_WORDS = new Set([
  'trap', 'cd', 'export', 'set', 'unset', 'eval', 'source', '.', 'if', 'then', 'while', 'until', 'for', 'case', 'do', 'done',
  'fi', 'esac', '{', '}', '!', 'function', 'ulimit', 'umask', 'wait', 'read', 'shift', 'alias', 'local', 'readonly',
]);

/**
 * Splits `text` into words as `sh` would: blanks separate words, '…' is literal, "…" is literal
 * except \" \\ \$ \` and \<newline>, and a backslash outside quotes takes the next character
 * literally. A leading `exec` is dropped (without a shell the program is already PID 1).
 */
export function splitShellWords(text: string): ShellWordsResult {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let wordStart = true;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === ' ' || char === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      wordStart = true;
      continue;
    }
    if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, reason: 'an unterminated single quote' };
      word += text.slice(i + 1, end);
      i = end;
      inWord = true;
      wordStart = false;
      continue;
    }
    if (char === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const inner = text[j]!;
        if (inner === '\\' && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1]!)) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          j++;
        } else if (inner === '$') return { ok: false, reason: 'a "$" expansion inside double quotes' };
        else if (inner === '`') return { ok: false, reason: 'a command substitution (backticks)' };
        else word += inner;
      }
      if (j >= text.length) return { ok: false, reason: 'an unterminated double quote' };
      i = j;
      inWord = true;
      wordStart = false;
      continue;
    }
    if (char === '\\') {
      if (i + 1 >= text.length) return { ok: false, reason: 'a trailing backslash' };
      if (text[i + 1] !== '\n') word += text[i + 1];
      i++;
      inWord = true;
      wordStart = false;
      continue;
    }
    if (char === '$') return { ok: false, reason: text[i + 1] === '(' ? 'a command substitution "$(…)"' : 'a "$" expansion' };
    const operator = OPERATORS[char];
    if (operator) return { ok: false, reason: operator };
    if (wordStart && char === '#') return { ok: false, reason: 'a comment "#"' };
    if (wordStart && char === '~') return { ok: false, reason: 'a "~" home expansion' };
    word += char;
    inWord = true;
    wordStart = false;
  }
  if (inWord) words.push(word);
  if (words.length === 0) return { ok: false, reason: 'no words' };
  if (words[0] === 'exec') words.shift();
  if (words.length === 0) return { ok: false, reason: 'no program after "exec"' };
  if (SHELL_WORDS.has(words[0]!)) return { ok: false, reason: `the shell builtin "${words[0]}"` };
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) return { ok: false, reason: `a variable assignment "${words[0]}" (set it in env instead)` };
  return { ok: true, words };
}

/** The list form to write instead of a cmd string that needs a shell: `["sh", "-c", "…"]` (valid YAML and JSON). */
export function shellListForm(text: string): string {
  return `["sh", "-c", ${JSON.stringify(text)}]`;
}
