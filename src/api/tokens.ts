import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one in constant time (for equal lengths; a different
 * length is a mismatch, and the comparison still runs so that timing says nothing about the content).
 */
export function tokensMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return expected.length > 0 && timingSafeEqual(a, b);
}
