// Plain-text tables for terminal output: columns padded to their widest cell, two spaces apart,
// no trailing blanks (so golden tests and `grep` see clean lines). Given a width, a table fits
// it: columns empty in every row go, long cells are cut (marked …) down to a minimum, and
// when that is not enough the least useful columns are dropped, in the order the caller gives
// (a column that may be dropped is never cut: whole or not at all).

/** How one column may give way when the table is too wide. */
export interface ColumnFit {
  /** Cut long cells: keep their start (`end`: the end is cut) or their end (`start`: image refs keep their tag). */
  readonly cut?: 'start' | 'end';
  /** Never cut below this many columns (default: the header's width). */
  readonly min?: number;
  /** Dropped when cutting the other columns is not enough; a lower number drops first. Never cut. */
  readonly drop?: number;
}

/** Fitting options: without a width the table is as wide as its cells. */
export interface TableOptions {
  readonly width?: number;
  /** Per column (by position), how it gives way. */
  readonly fit?: readonly (ColumnFit | undefined)[];
}

function cut(text: string, width: number, side: 'start' | 'end'): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…';
  return side === 'end' ? `${text.slice(0, width - 1)}…` : `…${text.slice(text.length - width + 1)}`;
}

/** Formats a header and rows as aligned columns; each line ends with a newline. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const count = Math.max(header.length, ...rows.map((r) => r.length));
  const fit = options.fit ?? [];
  const natural = (c: number) => Math.max((header[c] ?? '').length, ...rows.map((r) => (r[c] ?? '').length));
  let columns = [...Array(count).keys()];
  let widths = columns.map(natural);
  const total = () => widths.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, columns.length - 1);
  if (options.width !== undefined && total() > options.width) {
    // A column with nothing in any row says nothing: it goes first.
    columns = columns.filter((c) => rows.some((r) => (r[c] ?? '') !== ''));
    for (;;) {
      widths = columns.map(natural);
      let excess = total() - options.width;
      for (const [i, c] of columns.entries()) {
        const rule = fit[c];
        if (excess <= 0 || !rule?.cut || rule.drop !== undefined) continue;
        const floor = Math.max(rule.min ?? (header[c] ?? '').length, 1);
        const give = Math.max(0, Math.min(excess, widths[i]! - floor));
        widths[i]! -= give;
        excess -= give;
      }
      if (excess <= 0) break;
      const droppable = columns.filter((c) => fit[c]?.drop !== undefined).sort((a, b) => fit[a]!.drop! - fit[b]!.drop!);
      if (droppable.length === 0) break; // as narrow as it can be: wider than asked, but whole
      columns = columns.filter((c) => c !== droppable[0]);
    }
  }
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const text = cut(cells[c] ?? '', widths[i]!, fit[c]?.cut ?? 'end');
        return i === columns.length - 1 ? text : text.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}
