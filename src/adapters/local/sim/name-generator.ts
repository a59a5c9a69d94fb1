/** The alphabet the API server draws generated name suffixes from (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Generated names are at most 63 characters: base (≤ 58) + 5 random characters. */
const MAX_GENERATE_NAME_BASE = 58;

/**
 * Deterministic stand-in for the API server's random names and uids: the same seed gives the same
 * sequence, so tests and demos print stable pod names.
 */
export class NameGenerator {
  private state: number;

  /** @param seed any integer. @default 1 */
  constructor(seed = 1) {
    this.state = seed >>> 0 || 1;
  }

  /** `generateName` + 5 characters, the base cut to 58 characters as the API server does. */
  generateName(base: string): string {
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[this.nextInt(SUFFIX_ALPHABET.length)];
    return base.slice(0, MAX_GENERATE_NAME_BASE) + suffix;
  }

  /** A version-4-shaped uid. */
  uid(): string {
    const hex = Array.from({ length: 32 }, () => this.nextInt(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  // mulberry32: small, fast, and good enough for names.
  private nextInt(bound: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % bound) | 0;
  }
}
