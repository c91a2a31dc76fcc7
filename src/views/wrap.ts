// Word wrapping for terminal text: lines fit a width (80 columns unless told), break only
// between words, and carry an indent so a wrapped cause still reads as part of its resource.

const ANSI = /\u001b\[[0-9;]*m/g;

/** The width a terminal shows for text: colour codes take no columns. */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/**
 * text broken into lines of at most width columns: the first starts with firstPrefix, the others
 * with restPrefix. Breaks only at spaces; a word longer than a line stays whole on its own line.
 */
export function wrapWords(text: string, width: number, firstPrefix: string, restPrefix: string): string[] {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = firstPrefix;
  let empty = true;
  for (const word of words) {
    if (empty) {
      line += word;
      empty = false;
    } else if (visibleLength(line) + 1 + visibleLength(word) <= width) {
      line += ` ${word}`;
    } else {
      lines.push(line);
      line = restPrefix + word;
    }
  }
  lines.push(line);
  return lines;
}
