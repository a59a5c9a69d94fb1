/** How {@link formatTable} lays a table out. */
export interface TableOptions {
  /** Cells longer than this are cut with an ellipsis (not the last column, nor the `fit` one). @default 60 */
  maxCell?: number;
  /** The width to fit in (a terminal's `columns`); none = as wide as the cells. */
  width?: number;
  /**
   * The columns (indexes) that wrap onto more lines so the table fits `width`, in order: the first is
   * narrowed down to a readable minimum before the next one is. Wrapped columns are never cut.
   */
  fit?: number | readonly number[];
}

/** The narrowest a wrapping column gets, whatever the width: narrower is no longer readable. */
const MIN_FIT_WIDTH = 20;

/**
 * Formats rows as a left-aligned text table. Long cells are cut with an ellipsis, except in the last
 * column and the `fit` columns; with `width`, the `fit` columns wrap so each line fits (each down to a
 * readable minimum: past that, lines are longer than `width` rather than cutting a column).
 */
export function formatTable(header: string[], rows: string[][], options: TableOptions = {}): string {
  const { maxCell = 60, width } = options;
  const fit = (typeof options.fit === 'number' ? [options.fit] : (options.fit ?? [])).filter(
    (i) => i < header.length,
  );
  const last = header.length - 1;
  const cut = (s: string, i: number) =>
    i !== last && !fit.includes(i) && s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s;
  const all = [header, ...rows.map((r) => r.map(cut))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const i of width !== undefined ? fit : []) {
    const over = widths.reduce((a, b) => a + b, 0) + 2 * last - width!;
    if (over <= 0) break;
    widths[i] = Math.max(Math.min(MIN_FIT_WIDTH, widths[i]!), widths[i]! - over, header[i]!.length);
  }
  const lines: string[] = [];
  for (const row of all) {
    const wrapped = new Map(fit.map((i) => [i, wrap(row[i] ?? '', widths[i]!)]));
    const height = Math.max(1, ...[...wrapped.values()].map((w) => w.length));
    for (let line = 0; line < height; line++) {
      const cells = header.map((_, i) => {
        const parts = wrapped.get(i);
        if (parts) return parts[line] ?? '';
        return line === 0 ? (row[i] ?? '') : '';
      });
      lines.push(
        cells
          .map((c, i) => (i === last ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `text` in lines of at most `width`, broken after a space, comma or slash where there is one. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let left = text;
  while (left.length > width) {
    const head = left.slice(0, width);
    const at = Math.max(head.lastIndexOf(' '), head.lastIndexOf(','), head.lastIndexOf('/'));
    const end = at > width / 3 ? at + 1 : width;
    lines.push(left.slice(0, end).trimEnd());
    left = left.slice(end).trimStart();
  }
  if (left.length > 0 || lines.length === 0) lines.push(left);
  return lines;
}

/** The width of `out` when it is a terminal (what `width` of {@link formatTable} should be), else undefined. */
export function terminalWidth(
  out: { isTTY?: boolean; columns?: number } = process.stdout,
): number | undefined {
  return out.isTTY === true && typeof out.columns === 'number' && out.columns > 0 ? out.columns : undefined;
}
