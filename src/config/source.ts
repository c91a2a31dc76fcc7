// Reading and parsing one YAML config file into a Document that keeps source positions, so every
// later problem (interpolation, schema, secrets) can be reported as file:line:col.
import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Document, type Node } from 'yaml';
import type { Diagnostic } from '../errors.ts';

/** Files larger than this are refused before parsing: no real deploy.yml comes close. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** One parsed config file with what is needed to point at its nodes. */
export interface ConfigSource {
  /** The file name used in messages (as the user gave it, relative to cwd). */
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** A key path into a config: map keys and list indexes. */
export type KeyPath = readonly (string | number)[];

/** Formats a key path the way users read it: `servers.web.hosts[1]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    // Keys with dots or spaces (labels, traefik args) are quoted so the path stays unambiguous.
    else if (!/^[A-Za-z0-9_-]+$/.test(segment)) out += `[${JSON.stringify(segment)}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

/** Result of reading a file: the parsed source, or the diagnostics that prevent using it. */
export type ReadResult = { ok: true; source: ConfigSource } | { ok: false; diagnostics: Diagnostic[] };

/** Reads and parses a YAML config file; never throws for bad input, returns diagnostics instead. */
export async function readConfigSource(absolutePath: string, file: string, notFound?: string): Promise<ReadResult> {
  const fail = (message: string): ReadResult => ({ ok: false, diagnostics: [{ file, path: '', message }] });
  let size: number;
  try {
    const info = await stat(absolutePath);
    if (info.isDirectory()) return fail('is a directory, not a config file');
    if (!info.isFile()) return fail('is not a regular file');
    size = info.size;
  } catch (error) {
    if (notFound && (error as NodeJS.ErrnoException).code === 'ENOENT') return fail(notFound);
    return fail(describeFsError(error));
  }
  if (size > MAX_CONFIG_BYTES) return fail(`file is too large (${size} bytes; a config file may have at most ${MAX_CONFIG_BYTES} bytes)`);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolutePath);
  } catch (error) {
    return fail(describeFsError(error));
  }
  return parseConfigText(bytes, file);
}

/** Parses config bytes (pure); exported for tests. */
export function parseConfigText(bytes: Uint8Array, file: string): ReadResult {
  const fail = (message: string): ReadResult => ({ ok: false, diagnostics: [{ file, path: '', message }] });
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL byte');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('is not a text file (binary or not UTF-8); a config file is YAML text');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // A fresh LineCounter per parse: it accumulates line starts and would give wrong lines if reused.
  const lineCounter = new LineCounter();
  // merge: true accepts `<<: *anchor` merge keys, which YAML 1.1 files (Kamal's Psych) use.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, merge: true });
  if (doc.errors.length > 0) {
    // ERB control blocks (<% if %>…<% end %>) break the YAML; name them rather than the syntax errors they cause.
    const blocks = [...text.matchAll(/<%(?!=)[^\n]*?%>/g)];
    if (blocks.length > 0) {
      const diagnostics = blocks.map((block): Diagnostic => {
        const pos = lineCounter.linePos(block.index ?? 0);
        return { file, line: pos.line, col: pos.col, path: '', message: `ERB block ${block[0]} is not supported: mrsk does not run Ruby; use \${VAR} interpolation in values, or a destination file (deploy.<destination>.yml) for settings that differ per environment` };
      });
      return { ok: false, diagnostics };
    }
    const diagnostics = doc.errors.map((error): Diagnostic => {
      const pos = lineCounter.linePos(error.pos[0]);
      return { file, line: pos.line, col: pos.col, path: '', message: `YAML syntax error: ${firstLine(error.message)}` };
    });
    return { ok: false, diagnostics };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail('file is empty; run "mrsk init" for a commented example');
  }
  return { ok: true, source: { file, doc, lineCounter } };
}

function firstLine(message: string): string {
  // yaml's messages end with " at line L, column C" and a code excerpt; we print the position ourselves.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found (run "mrsk init" to create one, or pass -c <file>)';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read the file: permission denied';
  if (code === 'EISDIR') return 'is a directory, not a config file';
  return `cannot read the file: ${(error as Error).message}`;
}

/** Where a key path points in a source: the node of the deepest existing prefix, and whether all of it exists. */
export interface Located {
  readonly line: number;
  readonly col: number;
  /** True when every segment of the path exists in this document. */
  readonly complete: boolean;
  /** The node at the deepest existing prefix (a value node; for a key-only target, the key). */
  readonly node: Node | undefined;
}

/**
 * Finds the node a key path refers to. With `pointAtKey`, the last segment is located at its key
 * (for "unknown key" messages) instead of at its value.
 */
export function locate(source: ConfigSource, path: KeyPath, pointAtKey = false): Located {
  type Ranged = { range?: [number, number, number] | null } | null | undefined;
  let node: unknown = source.doc.contents;
  let anchor = node as Ranged;
  let complete = true;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (!pair) {
        complete = false;
        break;
      }
      if (last && pointAtKey) {
        anchor = pair.key as Ranged;
        node = pair.key;
        break;
      }
      // A key with no value (`healthcheck:`) has a null value node; point at the key then.
      node = pair.value ?? pair.key;
      anchor = (pair.value && (pair.value as Node).range ? pair.value : pair.key) as Ranged;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
      anchor = node as Ranged;
    } else {
      complete = false;
      break;
    }
  }
  const offset = anchor?.range?.[0] ?? 0;
  const pos = source.lineCounter.linePos(offset);
  return { line: pos.line, col: pos.col, complete, node: node as Node | undefined };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** Builds a diagnostic positioned at a key path of a source. */
export function diagnosticAt(source: ConfigSource, path: KeyPath, message: string, pointAtKey = false): Diagnostic {
  const where = locate(source, path, pointAtKey);
  return { file: source.file, line: where.line, col: where.col, path: formatPath(path), message };
}
