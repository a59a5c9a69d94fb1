/**
 * The times of pod log lines, as the kubelet writes them with `timestamps=true`: RFC 3339 in UTC with
 * nine fraction digits (`2026-12-01T20:13:42.123456789Z`). Kept as nanoseconds since the epoch in a
 * `bigint`, since two lines a few nanoseconds apart must compare apart.
 */

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** `2026-12-01T20:13:42.5Z` → nanoseconds since the epoch; undefined when it is not RFC 3339. */
export function parseLogTime(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const wholeSecondMs = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(wholeSecondMs)) return undefined;
  return BigInt(wholeSecondMs) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Nanoseconds since the epoch → `2026-12-01T20:13:42.123456789Z` (always nine digits, as the kubelet). */
export function formatLogTime(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = nanos % 1_000_000_000n;
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${fraction.toString().padStart(9, '0')}Z`;
}

/** One line read with `timestamps=true`: its time and its text. Undefined when it carries no time. */
export function splitStampedLine(line: string): { time: bigint; stamp: string; text: string } | undefined {
  const space = line.indexOf(' ');
  const stamp = space === -1 ? line : line.slice(0, space);
  const time = parseLogTime(stamp);
  if (time === undefined) return undefined;
  return { time, stamp, text: space === -1 ? '' : line.slice(space + 1) };
}
