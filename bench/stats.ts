/** p50 / p99 / max / mean of a sample, in its unit. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Summarizes a sample with nearest-rank percentiles (the p99 of 200 values is the 198th smallest).
 * An empty sample gives NaN everywhere.
 */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const mean = sorted.length > 0 ? sorted.reduce((s, v) => s + v, 0) / sorted.length : Number.NaN;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted.at(-1) ?? Number.NaN, mean };
}

/** Rounds for tables: 1 decimal under 100, whole numbers above. */
export function round(value: number): number {
  return Math.abs(value) < 100 ? Math.round(value * 10) / 10 : Math.round(value);
}

/** `p50 …, p99 …, max … (count)`, or `–` without samples. */
export function summaryText(s: Summary): string {
  return s.count === 0 ? '–' : `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (${s.count})`;
}

/** Milliseconds as text, `–` for NaN. */
export function ms(value: number): string {
  return Number.isNaN(value) ? '–' : `${round(value)} ms`;
}

/** Request counts as `3 create jobs, 1 watch pods`. */
export function callsText(byCall: Record<string, number>): string {
  return Object.entries(byCall)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
}
