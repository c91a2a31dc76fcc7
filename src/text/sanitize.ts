// Text a host sends (probe output, file contents under ~/.mrsk, stderr, container logs shown in a
// failure) may carry terminal control sequences. Printed raw, they could recolour, retitle or
// clear the user's terminal, move the cursor to rewrite lines already shown, or hide text. One
// rule, applied where host text enters mrsk: keep \n and \t, drop escape sequences whole and
// every other C0/C1 control character, DEL and the Unicode bidi overrides. Pure.
//
// Not applied to what the user asked to see as it is: `mrsk app logs` and `mrsk app exec`
// (their own containers' output, colours included) pass through untouched.

// ESC-introduced sequences, removed with their parameters:
//   CSI  ESC [ params intermediates final          (colours, cursor moves, clear screen)
//   OSC  ESC ] … BEL | ESC \                       (window title, hyperlinks, clipboard)
//   DCS/SOS/PM/APC  ESC P|X|^|_ … ESC \
//   other two-byte escapes  ESC intermediates final (reset ESC c, charsets ESC ( B)
// and the 8-bit CSI (U+009B) with its parameters. An unterminated string sequence runs to the
// end of the text (a terminal would swallow it too).
const ESCAPE_SEQUENCES =
  /\u001b(?:\[[0-?]*[ -/]*[@-~]?|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[PX^_][^\u001b]*(?:\u001b\\)?|[ -/]*[0-~]?)|\u009b[0-?]*[ -/]*[@-~]?/g;
// C0 except \t (09) and \n (0a); DEL and C1; bidi embeddings/overrides/isolates (U+202A–202E, U+2066–2069).
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without terminal control sequences and control characters (\n and \t are kept). */
export function sanitizeHostText(text: string): string {
  // fast path: most host text is plain
  if (!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text)) return text;
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROL_CHARACTERS, '');
}

/**
 * A decoded JSON value with every string (object keys included) sanitized: JSON escapes such as
 * \u001b decode to the very characters sanitizeHostText removes, so a value parsed from host
 * output is cleaned after JSON.parse, not before.
 */
export function sanitizeHostValue<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeHostText(value);
  if (Array.isArray(value)) return value.map(clean);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[sanitizeHostText(key)] = clean(item);
    return out;
  }
  return value;
}

/** Host text for a one-line message: sanitized, whitespace runs folded, at most `max` characters. */
export function hostExcerpt(text: string, max = 120): string {
  const flat = sanitizeHostText(text).trim().replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || '(empty)';
}
