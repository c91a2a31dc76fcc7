// Destination files merge over the main file: maps merge key by key, anything else (lists,
// scalars, null) replaces. Diagnostics must name the file a value came from, so the merge also
// answers "which source holds this key path".
import { isMap } from 'yaml';
import { locate, type ConfigSource, type KeyPath } from './source.ts';

/** Deep-merges `over` onto `base` (pure): maps merge, everything else replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = key in base ? deepMerge(base[key], value) : value;
    return out;
  }
  return over;
}

/** True for `{...}` values (not arrays, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Picks the source (main or destination file) a key path of the merged config comes from: the
 * destination file when it sets that path or replaces a prefix of it with a non-map value.
 */
export function originOf(sources: readonly ConfigSource[], path: KeyPath): ConfigSource {
  // Later sources win, exactly as in deepMerge.
  for (let s = sources.length - 1; s > 0; s--) {
    const source = sources[s]!;
    for (let depth = 0; depth <= path.length; depth++) {
      const found = locate(source, path.slice(0, depth));
      if (!found.complete) break;
      if (depth === path.length || !isMap(found.node)) return source;
    }
  }
  return sources[0]!;
}
