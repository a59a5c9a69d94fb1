/** Formats rows as a left-aligned text table; long cells are cut with an ellipsis, except in the last column. */
export function formatTable(header: string[], rows: string[][], maxCell = 60): string {
  const cut = (s: string, i: number) =>
    i < header.length - 1 && s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s;
  const all = [header, ...rows.map((r) => r.map(cut))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return `${all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
