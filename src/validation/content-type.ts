/**
 * Content type from the bytes, never from the filename: a `.pdf` that is really a Word file
 * must be refused here, not by RingCentral after a rate-limited send.
 */
interface Signature {
  contentType: string;
  extension: string;
  test: (b: Uint8Array) => boolean;
}

const startsWith = (b: Uint8Array, bytes: number[], offset = 0): boolean =>
  bytes.every((v, i) => b[offset + i] === v);

const SIGNATURES: Signature[] = [
  { contentType: 'application/pdf', extension: 'pdf', test: (b) => findPdfHeader(b) >= 0 },
  {
    contentType: 'image/tiff',
    extension: 'tiff',
    test: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]),
  },
  {
    contentType: 'image/png',
    extension: 'png',
    test: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  },
  { contentType: 'image/jpeg', extension: 'jpg', test: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { contentType: 'image/gif', extension: 'gif', test: (b) => startsWith(b, [0x47, 0x49, 0x46, 0x38]) },
  { contentType: 'image/bmp', extension: 'bmp', test: (b) => startsWith(b, [0x42, 0x4d]) && b.length > 26 },
];

/** PDF readers accept the header anywhere in the first 1024 bytes; so does RingCentral. */
function findPdfHeader(b: Uint8Array): number {
  const limit = Math.min(b.length - 5, 1024);
  for (let i = 0; i <= limit; i++) {
    if (b[i] === 0x25 && b[i + 1] === 0x50 && b[i + 2] === 0x44 && b[i + 3] === 0x46 && b[i + 4] === 0x2d)
      return i;
  }
  return -1;
}

export interface DetectedType {
  contentType: string;
  extension: string;
}

export function detectContentType(bytes: Uint8Array): DetectedType | undefined {
  const sig = SIGNATURES.find((s) => s.test(bytes));
  if (sig) return { contentType: sig.contentType, extension: sig.extension };
  if (looksLikeText(bytes)) return { contentType: 'text/plain', extension: 'txt' };
  return undefined;
}

/** Plain text: valid UTF-8 with no control characters other than tab, CR, LF and form feed. */
function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 64 * 1024);
  for (const c of sample) {
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) return false;
    if (c === 0x7f) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return true;
  } catch {
    return false;
  }
}

export const SUPPORTED_TYPES_SENTENCE = 'PDF, TIFF, PNG, JPEG, GIF, BMP or plain text';
