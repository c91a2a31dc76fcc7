// Plain-text tables for terminal output: columns padded to their widest cell, two spaces apart,
// no trailing blanks (so golden tests and `grep` see clean lines). Given a width, a table fits
// it: columns empty in every row go, then the caller's steps run in order until it fits — cut a
// column's long cells (marked …) down to a width, or drop a column — so each table says what it
// gives up first.

/** One way a too-wide table gives way. Columns are numbered by position. */
export type FitStep =
  /** Cut the column's cells to at most `to` characters (only as far as needed); `keep: 'end'` keeps their end (an image ref's tag). */
  | { readonly cut: number; readonly to: number; readonly keep?: 'start' | 'end' }
  /** Leave the column out. */
  | { readonly drop: number };

/** Fitting options: without a width the table is as wide as its cells. */
export interface TableOptions {
  readonly width?: number;
  readonly steps?: readonly FitStep[];
}

function cut(text: string, width: number, keep: 'start' | 'end'): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…';
  return keep === 'start' ? `${text.slice(0, width - 1)}…` : `…${text.slice(text.length - width + 1)}`;
}

/** Formats a header and rows as aligned columns; each line ends with a newline. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const count = Math.max(header.length, ...rows.map((r) => r.length));
  const natural = (c: number) => Math.max((header[c] ?? '').length, ...rows.map((r) => (r[c] ?? '').length));
  let columns = [...Array(count).keys()];
  const widths = new Map(columns.map((c) => [c, natural(c)]));
  const keep = new Map<number, 'start' | 'end'>();
  const total = () => columns.reduce((sum, c) => sum + widths.get(c)!, 0) + 2 * Math.max(0, columns.length - 1);
  const { width } = options;
  if (width !== undefined && total() > width) {
    // A column with nothing in any row says nothing: it goes first.
    columns = columns.filter((c) => rows.some((r) => (r[c] ?? '') !== ''));
    const steps = options.steps ?? [];
    const shrink = (step: Extract<FitStep, { cut: number }>): void => {
      const current = widths.get(step.cut);
      if (current === undefined || !columns.includes(step.cut)) return;
      const target = Math.max(step.to, current - (total() - width));
      if (target >= current) return;
      widths.set(step.cut, target);
      keep.set(step.cut, step.keep ?? 'start');
    };
    for (let i = 0; i < steps.length && total() > width; i += 1) {
      const step = steps[i]!;
      if ('cut' in step) {
        shrink(step);
        continue;
      }
      // Dropping frees room: the earlier cuts start again from whole cells, only as deep as needed.
      columns = columns.filter((c) => c !== step.drop);
      for (const c of columns) widths.set(c, natural(c));
      keep.clear();
      for (const earlier of steps.slice(0, i)) if ('cut' in earlier && total() > width) shrink(earlier);
    }
  }
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const text = cut(cells[c] ?? '', widths.get(c)!, keep.get(c) ?? 'start');
        return i === columns.length - 1 ? text : text.padEnd(widths.get(c)!);
      })
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}
