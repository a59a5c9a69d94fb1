/** How Mage's (PyYAML's) and Metaflow's scalars are read where they differ from plain YAML 1.2. */

/** PyYAML's YAML 1.1 booleans: read as booleans only where a boolean is expected. */
const YAML_11_BOOLEANS: Readonly<Record<string, boolean>> = {
  yes: true,
  Yes: true,
  YES: true,
  on: true,
  On: true,
  ON: true,
  no: false,
  No: false,
  NO: false,
  off: false,
  Off: false,
  OFF: false,
};

/** A boolean, or PyYAML's `yes`/`no`/`on`/`off` (any of its spellings); undefined for anything else. */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  return typeof value === 'string' && Object.hasOwn(YAML_11_BOOLEANS, value)
    ? YAML_11_BOOLEANS[value]
    : undefined;
}

const UNITLESS = /^\d+(\.\d+)?$/;

/** True for a number written as a string without a unit (`"4096"`), which Metaflow reads in its own unit. */
export function isUnitlessNumber(text: string): boolean {
  return UNITLESS.test(text);
}
