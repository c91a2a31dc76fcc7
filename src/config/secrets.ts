// Secret values: looked up by name in the process environment, then the destination's secrets
// file, then the common secrets file (the first that has the name wins, so the environment
// overrides .mrsk/secrets.<destination>, which overrides .mrsk/secrets).
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
      const inner = body.slice(0, close);
      values.set(name, quote === '"' ? unescapeDouble(inner) : inner);
    } else {
      raw = raw.replace(/\s+#.*$/, '').trim();
      values.set(name, raw);
    }
  }
  return { values, problems };
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

/** Reads the secrets sources for a project root and destination: environment first. Missing files are skipped. */
export async function loadSecretSources(
  root: string,
  destination: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ sources: SecretSource[]; problems: { file: string; line: number; message: string }[] }> {
  const environment = new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const sources: SecretSource[] = [{ label: 'the environment', values: environment }];
  const problems: { file: string; line: number; message: string }[] = [];
  const files = destination ? [`.mrsk/secrets.${destination}`, '.mrsk/secrets'] : ['.mrsk/secrets'];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(join(root, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        sources.push({ label: `${file} (not found)`, values: new Map() });
        continue;
      }
      problems.push({ file, line: 1, message: `cannot read: ${code ?? (error as Error).message}` });
      continue;
    }
    const parsed = parseDotenv(text);
    for (const problem of parsed.problems) problems.push({ file, ...problem });
    sources.push({ label: file, values: parsed.values });
  }
  return { sources, problems };
}

/** Looks a secret up in the sources; undefined when no source has it. */
export function lookupSecret(name: string, sources: readonly SecretSource[]): Secret | undefined {
  for (const source of sources) {
    const value = source.values.get(name);
    if (value !== undefined) return new Secret(name, value);
  }
  return undefined;
}

/** The message for a secret found nowhere: names it and every place looked. */
export function missingSecretMessage(name: string, sources: readonly SecretSource[]): string {
  return `secret ${name} is not set; looked in ${sources.map((s) => s.label).join(', ')}`;
}
