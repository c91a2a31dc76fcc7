// Plain-text tables for terminal output: columns padded to their widest cell, two spaces apart,
// no trailing blanks (so golden tests and `grep` see clean lines).

/** Formats a header and rows as aligned columns; each line ends with a newline. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const columns = Math.max(header.length, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c += 1) {
    widths.push(Math.max((header[c] ?? '').length, ...rows.map((r) => (r[c] ?? '').length)));
  }
  const line = (cells: readonly string[]) =>
    widths
      .map((width, c) => (c === columns - 1 ? (cells[c] ?? '') : (cells[c] ?? '').padEnd(width)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}
