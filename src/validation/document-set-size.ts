import { MAX_TOTAL_BYTES } from './limits';
import { FaxValidationError } from './validation-error';

/**
 * The checks every document set gets first, cheap or full: at least one document, and at most
 * RingCentral's 50 MB together. Returns the total size.
 */
export function checkDocumentSetSize(docs: readonly { bytes: Uint8Array }[]): number {
  if (docs.length === 0)
    throw new FaxValidationError('NO_DOCUMENTS', 'The fax has no documents; attach at least one.');
  const totalBytes = docs.reduce((n, d) => n + d.bytes.byteLength, 0);
  if (totalBytes > MAX_TOTAL_BYTES) {
    throw new FaxValidationError(
      'DOCUMENT_TOO_LARGE',
      `The documents total ${formatMb(totalBytes)}; RingCentral accepts at most ${formatMb(MAX_TOTAL_BYTES)} per fax.`,
    );
  }
  return totalBytes;
}

export function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
