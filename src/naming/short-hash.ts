import { createHash } from 'node:crypto';

/** Length of {@link shortHash}'s output, in hex characters. */
export const SHORT_HASH_LENGTH = 8;

/**
 * The first 8 hex characters of the SHA-256 of `text`: a stable, collision-resistant-enough tag that keeps
 * shortened names and label values unique. Pure: the same text always gives the same hash.
 *
 * @example shortHash('mage-data-prep-block-42') // 8 lowercase hex characters, always the same
 */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, SHORT_HASH_LENGTH);
}
