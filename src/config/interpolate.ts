// Variable interpolation in string values, done after YAML parsing so positions survive:
// Compose-style ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $$,
// and the few ERB forms MRSK/Kamal files use for environment variables. Anything else inside
// <% %> is refused: mrsk does not run Ruby.
import { isMap, isPair, isScalar, isSeq, Scalar } from 'yaml';
import type { Diagnostic } from '../errors.ts';
import { diagnosticAt, type ConfigSource, type KeyPath } from './source.ts';

/** The outcome of interpolating one string. */
export type InterpolationResult = { ok: true; value: string; changed: boolean } | { ok: false; errors: string[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ERB_SUPPORTED = '<%= ENV["X"] %>, <%= ENV[\'X\'] %>, <%= ENV.fetch("X") %>, <%= ENV.fetch("X", "default") %>';

/** Interpolates one string against an environment (pure). Collects every problem in it. */
export function interpolateString(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const errors: string[] = [];
  let out = '';
  let changed = false;
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    if (rest.startsWith('$$')) {
      out += '$';
      i += 2;
      changed = true;
    } else if (rest.startsWith('${')) {
      const end = text.indexOf('}', i + 2);
      if (end < 0) {
        errors.push(`unterminated "\${" (write "$$" for a literal "$")`);
        break;
      }
      const expression = text.slice(i + 2, end);
      const value = expandBraced(expression, env, errors);
      if (value !== undefined) out += value;
      i = end + 1;
      changed = true;
    } else if (rest.startsWith('<%')) {
      const end = text.indexOf('%>', i + 2);
      if (end < 0) {
        errors.push('unterminated "<%" (ERB tags must close with "%>" on the same value)');
        break;
      }
      const tag = text.slice(i, end + 2);
      const value = expandErb(tag, env, errors);
      if (value !== undefined) out += value;
      i = end + 2;
      changed = true;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out, changed };
}

function expandBraced(expression: string, env: NodeJS.ProcessEnv, errors: string[]): string | undefined {
  const match = /^([^:?\-}]*)(:-|-|:\?|\?)?([\s\S]*)$/.exec(expression)!;
  const name = match[1] ?? '';
  const operator = match[2];
  const argument = match[3] ?? '';
  if (!NAME.test(name) || (operator === undefined && argument !== '')) {
    errors.push(`invalid interpolation "\${${expression}}" (supported: \${VAR}, \${VAR:-default}, \${VAR:?message}; "$$" for a literal "$")`);
    return undefined;
  }
  const value = env[name];
  const unset = value === undefined;
  const emptyOrUnset = unset || value === '';
  switch (operator) {
    case ':-':
      return emptyOrUnset ? argument : value;
    case '-':
      return unset ? argument : value;
    case ':?':
      if (emptyOrUnset) errors.push(`environment variable ${name} is not set: ${argument || 'it is required'}`);
      return value;
    case '?':
      if (unset) errors.push(`environment variable ${name} is not set: ${argument || 'it is required'}`);
      return value;
    default:
      if (unset) errors.push(`environment variable ${name} is not set (set it, or give a default: \${${name}:-default})`);
      return value;
  }
}

function expandErb(tag: string, env: NodeJS.ProcessEnv, errors: string[]): string | undefined {
  const code = tag.slice(2, -2).replace(/^=/, '=').replace(/-$/, '').trim();
  const index = /^=\s*ENV\s*\[\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\]$/.exec(code);
  const fetch = /^=\s*ENV\.fetch\s*\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*(?:,\s*(["'])(.*?)\3\s*)?\)$/.exec(code);
  if (index) {
    const name = index[2]!;
    if (env[name] === undefined) errors.push(`environment variable ${name} is not set (in ${tag}; set it, or use \${${name}:-default})`);
    return env[name];
  }
  if (fetch) {
    const name = fetch[2]!;
    const fallback = fetch[4];
    if (env[name] !== undefined) return env[name];
    if (fallback !== undefined) return fallback;
    errors.push(`environment variable ${name} is not set (in ${tag}; set it, or use \${${name}:-default})`);
    return undefined;
  }
  errors.push(`unsupported ERB ${tag}: mrsk does not run Ruby; supported are ${ERB_SUPPORTED}; use \${${suggestName(code)}} and set ${suggestName(code)} in the environment or .mrsk/secrets`);
  return undefined;
}

/** Derives a variable name from Rails credentials ERB, e.g. `Rails.application.credentials.registry["username"]` → REGISTRY_USERNAME; else VAR. */
function suggestName(code: string): string {
  const after = /credentials((?:\s*(?:\.\s*[A-Za-z_][A-Za-z0-9_]*|\[\s*["':]?[A-Za-z_][A-Za-z0-9_]*["']?\s*\]))+)/.exec(code);
  if (!after) return 'VAR';
  const words = (after[1]!.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).filter((word) => !['dig', 'fetch', 'to_s'].includes(word));
  return words.length > 0 ? words.join('_').toUpperCase() : 'VAR';
}

/**
 * Interpolates every string value of a parsed document in place. Keys are not interpolated.
 * A plain (unquoted) value that was only one `${...}` becomes a number or boolean when its result
 * looks like one, so `port: ${PORT}` works like `port: 3000`.
 */
export function interpolateDocument(source: ConfigSource, env: NodeJS.ProcessEnv): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : '?';
        walk(item.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const original = node.value;
      if (!original.includes('$') && !original.includes('<%')) return;
      const result = interpolateString(original, env);
      if (!result.ok) {
        for (const message of result.errors) diagnostics.push(diagnosticAt(source, path as KeyPath, message));
        return;
      }
      if (!result.changed) return;
      node.value = node.type === Scalar.PLAIN && /^\$\{[^}]*\}$/.test(original) ? coerce(result.value) : result.value;
    }
  };
  walk(source.doc.contents, []);
  return diagnostics;
}

function coerce(value: string): string | number | boolean {
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) return Number(value);
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}
