/**
 * Identifiers and content hashes.
 *
 * Ids are UUID version 7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then
 * random bits. They are stable text, unique without coordination (documents
 * move between libraries by JSON export), and sort by creation time, which
 * keeps the B-tree inserts at the right edge of the index. The random bits
 * come from the operating system (crypto), not a seeded Rng: ids are not part
 * of any reproducible computation.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A new UUIDv7 such as `0190f5c4-8a3e-7b1c-9d2e-4f6a8b0c1d2e`. */
export function newId(now: number = Date.now()): string {
  const b = randomBytes(16);
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** SHA-256 of the text's UTF-8 bytes: the embedding cache's key (with pack and language). */
export function textHash(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
