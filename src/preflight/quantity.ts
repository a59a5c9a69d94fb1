import { parseQuantity } from '../config/k8s-values.js';
import type { ResourceList } from '../ports/cluster-inspector.js';

/** Resource amounts by name, as numbers (cores, bytes, counts). */
export type Amounts = Map<string, number>;

/** The amount of a quantity string; an unparseable one counts as 0 (the dry run reports it). */
export function amountOf(quantity: string | undefined): number {
  return quantity === undefined ? 0 : (parseQuantity(quantity) ?? 0);
}

/** A resource list as amounts. */
export function amountsOf(list: ResourceList | undefined): Amounts {
  return new Map(Object.entries(list ?? {}).map(([name, q]) => [name, amountOf(q)]));
}

/** `a + b`, per resource. */
export function addAmounts(a: Amounts, b: Amounts): Amounts {
  const out = new Map(a);
  for (const [name, value] of b) out.set(name, (out.get(name) ?? 0) + value);
  return out;
}

/** The larger of `a` and `b`, per resource. */
export function maxAmounts(a: Amounts, b: Amounts): Amounts {
  const out = new Map(a);
  for (const [name, value] of b) out.set(name, Math.max(out.get(name) ?? 0, value));
  return out;
}

/**
 * `a > b`, with a margin for floating point (`0.1 + 0.2` cores is not more than `300m`): quantities are
 * exact to the milli-unit, so anything closer than a millionth of the larger value is equal.
 */
export function exceeds(a: number, b: number): boolean {
  return a - b > Math.max(Math.abs(a), Math.abs(b)) * 1e-9;
}

const BINARY = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
] as const;
const DECIMAL = [
  ['E', 1e18],
  ['P', 1e15],
  ['T', 1e12],
  ['G', 1e9],
  ['M', 1e6],
  ['k', 1e3],
] as const;

/**
 * An amount written back as a quantity for messages: whole numbers as the largest exact suffix (binary
 * first: `1Gi`, `1500M`), fractions in milli-units (`1500m`), others rounded to 3 digits.
 */
export function formatAmount(value: number): string {
  if (value === 0) return '0';
  if (Number.isInteger(value)) {
    for (const [suffix, size] of BINARY)
      if (value >= size && value % size === 0) return `${value / size}${suffix}`;
    for (const [suffix, size] of DECIMAL)
      if (value >= size && value % size === 0) return `${value / size}${suffix}`;
    return String(value);
  }
  const milli = value * 1000;
  if (Math.abs(milli - Math.round(milli)) < 1e-6) return `${Math.round(milli)}m`;
  return String(Number(value.toPrecision(3)));
}
