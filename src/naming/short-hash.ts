import { createHash } from 'node:crypto';

/** Length of {@link shortHash}'s output, in hex characters. */
export const SHORT_HASH_LENGTH = 8;

/**
 * The hashes computed lately, by text: a long name or label value is hashed once, however often its Job
 * is named, labelled or matched. Cleared when full (a bound, not a policy: hashing again is always right).
 */
const computed = new Map<string, string>();
const COMPUTED_LIMIT = 4096;

/**
 * The first 8 hex characters of the SHA-256 of `text`: a stable, collision-resistant-enough tag that keeps
 * shortened names and label values unique. Pure: the same text always gives the same hash.
 *
 * @example shortHash('mage-data-prep-block-42') // 8 lowercase hex characters, always the same
 */
export function shortHash(text: string): string {
  let hash = computed.get(text);
  if (hash === undefined) {
    hash = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, SHORT_HASH_LENGTH);
    if (computed.size >= COMPUTED_LIMIT) computed.clear();
    computed.set(text, hash);
  }
  return hash;
}
