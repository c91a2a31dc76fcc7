// Secret values, looked up by name in the secrets files and then the process environment (a
// file wins over the environment, as in Kamal, whose dotenv files override ENV):
//   .mrsk/secrets.<destination>, .mrsk/secrets                        mrsk's own; literal values
//   .kamal/secrets.<destination> (or .kamal/secrets without -d), .kamal/secrets-common   Kamal 2
//   .env.<destination>, .env    Kamal 1; read only when the project has no .kamal/secrets* file
// The first source that has the name wins. Kamal's files may use $VAR, ${VAR} and $(command):
// they are evaluated here, on this machine, once per run (never on a host); a failing command
// fails the load with its stderr, and a value is never printed.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Secret } from '../secret.ts';

/** A parsed dotenv file: values by name, and the problems found (by 1-based line). */
export interface DotenvResult {
  readonly values: ReadonlyMap<string, string>;
  readonly problems: readonly { line: number; message: string }[];
}

/**
 * Parses a dotenv file (pure): `KEY=value`, optional `export `, `#` comments, blank lines,
 * 'single' (literal) or "double" quoted values (with \n, \", \\ escapes; may span lines), and
 * unquoted values with trailing ` # comments`. Later lines win.
 */
export function parseDotenv(text: string): DotenvResult {
  const values = new Map<string, string>();
  const { entries, problems } = parseDotenvEntries(text);
  for (const entry of entries) values.set(entry.name, entry.quote === '"' ? unescapeDouble(entry.raw) : entry.raw);
  return { values, problems };
}

/** One assignment of a dotenv file before evaluation: its raw text and how it was quoted. */
export interface DotenvEntry {
  readonly name: string;
  /** The text between the quotes (or the unquoted value without its trailing comment). */
  readonly raw: string;
  readonly quote: '"' | "'" | '';
  readonly line: number;
}

/** Splits a dotenv file into assignments (pure), in file order. */
export function parseDotenvEntries(text: string): { entries: DotenvEntry[]; problems: { line: number; message: string }[] } {
  const entries: DotenvEntry[] = [];
  const problems: { line: number; message: string }[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      problems.push({ line: lineNumber, message: 'expected NAME=value' });
      continue;
    }
    const name = match[1]!;
    let raw = match[2]!;
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      // Quoted values may continue over following lines until the closing quote.
      let body = raw.slice(1);
      let close = findClosingQuote(body, quote);
      while (close < 0 && index + 1 < lines.length) {
        index += 1;
        body += `\n${lines[index]!}`;
        close = findClosingQuote(body, quote);
      }
      if (close < 0) {
        problems.push({ line: lineNumber, message: `unterminated ${quote === '"' ? 'double' : 'single'} quote in ${name}` });
        continue;
      }
      entries.push({ name, raw: body.slice(0, close), quote, line: lineNumber });
    } else {
      raw = raw.replace(/\s+#.*$/, '').trim();
      entries.push({ name, raw, quote: '', line: lineNumber });
    }
  }
  return { entries, problems };
}

function findClosingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') {
      i += 1;
      continue;
    }
    if (body[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(text: string): string {
  return text.replace(/\\(.)/g, (_, char: string) => ({ n: '\n', r: '\r', t: '\t' })[char as 'n'] ?? char);
}

/** One place secrets may come from, in the order they are consulted. */
export interface SecretSource {
  /** Shown in "looked in" messages: `the environment`, `.mrsk/secrets`. */
  readonly label: string;
  readonly values: ReadonlyMap<string, string>;
}

/** Runs one `$(command)` of a secrets file: its stdout without trailing newlines, or its failure. */
export type CommandRunner = (command: string, env: NodeJS.ProcessEnv, cwd: string) => Promise<{ ok: true; stdout: string } | { ok: false; why: string }>;

/** Runs a command with sh on this machine (60 s at most); stderr is kept to explain a failure. */
export const runLocalCommand: CommandRunner = (command, env, cwd) =>
  new Promise((resolve) => {
    execFile('sh', ['-c', command], { env, cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout: stdout.replace(/\n+$/, '') });
      const status = error.killed ? 'timed out after 60s' : `exit ${String(error.code ?? 'signal')}`;
      const detail = stderr.trim().split('\n').slice(-10).join('\n  ');
      resolve({ ok: false, why: `${status}${detail ? `: ${detail}` : ''}` });
    });
  });

/**
 * Evaluates a Kamal (dotenv) secrets file: in unquoted and "double-quoted" values, $(command) is
 * replaced by its output, and $VAR / ${VAR} by an earlier value of the same file or else the
 * environment (empty when neither has it); \$ is a literal $. 'Single-quoted' values are literal.
 */
export async function evaluateDotenv(
  text: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  runCommand: CommandRunner = runLocalCommand,
): Promise<{ values: Map<string, string>; problems: { line: number; message: string }[] }> {
  const { entries, problems } = parseDotenvEntries(text);
  const values = new Map<string, string>();
  const lookup = (name: string) => values.get(name) ?? env[name] ?? '';
  for (const entry of entries) {
    if (entry.quote === "'") {
      values.set(entry.name, entry.raw);
      continue;
    }
    const result = await expandValue(entry.raw, entry.quote === '"', lookup, async (command) => {
      const commandEnv = { ...env, ...Object.fromEntries(values) };
      return runCommand(command, commandEnv, cwd);
    });
    if (result.ok) values.set(entry.name, result.value);
    else problems.push({ line: entry.line, message: `${entry.name}: ${result.why}` });
  }
  return { values, problems };
}

async function expandValue(
  raw: string,
  doubleQuoted: boolean,
  lookup: (name: string) => string,
  run: (command: string) => ReturnType<CommandRunner>,
): Promise<{ ok: true; value: string } | { ok: false; why: string }> {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i]!;
    if (char === '\\' && i + 1 < raw.length) {
      const next = raw[i + 1]!;
      if (next === '$') out += '$';
      else if (doubleQuoted) out += ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[next] ?? next;
      else out += `\\${next}`;
      i++;
      continue;
    }
    if (char !== '$') {
      out += char;
      continue;
    }
    if (raw[i + 1] === '(') {
      let depth = 1;
      let j = i + 2;
      for (; j < raw.length && depth > 0; j++) {
        if (raw[j] === '(') depth++;
        else if (raw[j] === ')') depth--;
      }
      if (depth > 0) return { ok: false, why: 'unterminated "$(" (write \\$ for a literal $)' };
      const command = raw.slice(i + 2, j - 1);
      const result = await run(command);
      if (!result.ok) return { ok: false, why: `the command $(${command}) failed (${result.why})` };
      out += result.stdout;
      i = j - 1;
      continue;
    }
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(raw.slice(i));
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(raw.slice(i));
    const match = braced ?? bare;
    if (match) {
      out += lookup(match[1]!);
      i += match[0].length - 1;
      continue;
    }
    out += char;
  }
  return { ok: true, value: out };
}

// Each file is evaluated once per run (its commands may ask a password manager).
const evaluated = new Map<string, Promise<{ values: Map<string, string>; problems: { line: number; message: string }[] }>>();

/** The secrets files mrsk reads for a destination, in precedence order, and whether Kamal's $ forms apply. */
export function secretFiles(destination: string | undefined): { file: string; evaluate: boolean; kamal1?: boolean }[] {
  return [
    ...(destination ? [{ file: `.mrsk/secrets.${destination}`, evaluate: false }] : []),
    { file: '.mrsk/secrets', evaluate: false },
    { file: destination ? `.kamal/secrets.${destination}` : '.kamal/secrets', evaluate: true },
    { file: '.kamal/secrets-common', evaluate: true },
    ...(destination ? [{ file: `.env.${destination}`, evaluate: true, kamal1: true }] : []),
    { file: '.env', evaluate: true, kamal1: true },
  ];
}

/** Reads the secrets sources for a project root and destination: files first, then the environment. Missing files are skipped. */
export async function loadSecretSources(
  root: string,
  destination: string | undefined,
  env: NodeJS.ProcessEnv,
  runCommand: CommandRunner = runLocalCommand,
): Promise<{ sources: SecretSource[]; problems: { file: string; line: number; message: string }[] }> {
  const environment = new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const sources: SecretSource[] = [];
  const problems: { file: string; line: number; message: string }[] = [];
  let kamal2 = false;
  for (const { file, evaluate, kamal1 } of secretFiles(destination)) {
    // Kamal 2 stopped reading .env: a project with .kamal/secrets* keeps .env for other tools.
    if (kamal1 && kamal2) continue;
    let text: string;
    try {
      text = await readFile(join(root, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // mrsk's own file is named even when missing, so "looked in" says where to put a secret.
        if (file.startsWith('.mrsk/')) sources.push({ label: `${file} (not found)`, values: new Map() });
        continue;
      }
      problems.push({ file, line: 1, message: `cannot read: ${code ?? (error as Error).message}` });
      continue;
    }
    if (file.startsWith('.kamal/')) kamal2 = true;
    if (!evaluate) {
      const parsed = parseDotenv(text);
      for (const problem of parsed.problems) problems.push({ file, ...problem });
      sources.push({ label: file, values: parsed.values });
      continue;
    }
    // Once per run: the same file, text and environment give the same values without running again.
    const environmentDigest = createHash('sha256').update(JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)))).digest('hex');
    const key = JSON.stringify([root, file, createHash('sha256').update(text).digest('hex'), environmentDigest]);
    let pending = runCommand === runLocalCommand ? evaluated.get(key) : undefined;
    if (!pending) {
      pending = evaluateDotenv(text, env, root, runCommand);
      if (runCommand === runLocalCommand) evaluated.set(key, pending);
    }
    const result = await pending;
    for (const problem of result.problems) problems.push({ file, ...problem });
    sources.push({ label: file, values: result.values });
  }
  sources.push({ label: 'the environment', values: environment });
  return { sources, problems };
}

/** Looks a secret up in the sources; undefined when no source has it. `as` names the Secret (an alias's env name). */
export function lookupSecret(name: string, sources: readonly SecretSource[], as: string = name): Secret | undefined {
  for (const source of sources) {
    const value = source.values.get(name);
    if (value !== undefined) return new Secret(as, value);
  }
  return undefined;
}

/** The message for a secret found nowhere: names it and every place looked. */
export function missingSecretMessage(name: string, sources: readonly SecretSource[]): string {
  return `secret ${name} is not set; looked in ${sources.map((s) => s.label).join(', ')}`;
}
