/** Checks of Kubernetes values as the API server does them, so that bad values fail before any call. */

const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const MULTIPLIERS: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * The value of a non-negative resource quantity (`500m` → 0.5, `2Gi` → 2147483648, `1e3` → 1000), or
 * undefined when it is not one (`2GB`, `-1`, `abc`).
 */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const suffix = match[3] ?? '';
  const number = Number(match[1]);
  return /^[eE]/.test(suffix) ? number * 10 ** Number(suffix.slice(1)) : number * MULTIPLIERS[suffix]!;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why `name` is not a DNS-1123 label (namespaces, volume and container names), or undefined. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name.length > 63) return `is ${name.length} characters long, the limit is 63`;
  if (!DNS_LABEL.test(name))
    return 'must be lowercase letters, digits and "-", starting and ending with a letter or digit';
  return undefined;
}

/** Why `name` is not a DNS-1123 subdomain (service accounts, secrets, config maps, claims), or undefined. */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (name.length > 253) return `is ${name.length} characters long, the limit is 253`;
  if (!DNS_SUBDOMAIN.test(name)) {
    return 'must be lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/** Why `key` is not a valid label or annotation key (`[prefix/]name`), or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const problem = prefix === '' ? 'is empty' : dnsSubdomainProblem(prefix);
    if (problem) return `has a prefix "${prefix}" that ${problem}`;
  }
  if (name.length === 0) return 'has an empty name part';
  if (name.length > 63) return `has a name part of ${name.length} characters, the limit is 63`;
  if (!LABEL_NAME.test(name)) {
    return 'must be letters, digits, "-", "_" and "." (optionally after a "prefix/"), starting and ending with a letter or digit';
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `is ${value.length} characters long, the limit is 63`;
  if (value !== '' && !LABEL_NAME.test(value)) {
    return 'must be empty or letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}
