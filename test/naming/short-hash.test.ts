import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHORT_HASH_LENGTH, shortHash } from '../../src/naming/short-hash.js';

const sha256Prefix = (text: string) =>
  createHash('sha256').update(text, 'utf8').digest('hex').slice(0, SHORT_HASH_LENGTH);

describe('shortHash', () => {
  it('is the SHA-256 prefix of the text, the first time and every time after (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(shortHash(text)).toBe(sha256Prefix(text));
        expect(shortHash(text)).toBe(sha256Prefix(text));
      }),
    );
  });

  it('stays right past the bound of the texts it remembers', () => {
    const texts = Array.from({ length: 5000 }, (_, i) => `mage-data-prep-block-${i}`);
    for (const text of texts) shortHash(text);
    for (const text of [texts[0]!, texts[4999]!]) expect(shortHash(text)).toBe(sha256Prefix(text));
  });
});
