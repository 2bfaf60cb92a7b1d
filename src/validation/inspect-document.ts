import { PDFDocument } from 'pdf-lib';
import { detectContentType, SUPPORTED_TYPES_SENTENCE } from './content-type';
import { FaxValidationError } from './validation-error';

export interface InspectedDocument {
  contentType: string;
  extension: string;
  /** Pages counted for PDFs; other types count as one page (RingCentral renders them server-side). */
  pages: number;
}

/** Checks one document's bytes and counts its pages; throws `FaxValidationError` when unusable. */
export async function inspectDocument(bytes: Uint8Array, label: string): Promise<InspectedDocument> {
  if (bytes.byteLength === 0) {
    throw new FaxValidationError(
      'EMPTY_DOCUMENT',
      `${label} is empty (0 bytes); a fax needs at least one page.`,
    );
  }
  const detected = detectContentType(bytes);
  if (!detected) {
    throw new FaxValidationError(
      'UNSUPPORTED_TYPE',
      `${label} is not a supported document type; send ${SUPPORTED_TYPES_SENTENCE}.`,
    );
  }
  if (detected.contentType !== 'application/pdf') return { ...detected, pages: 1 };

  let pdf: PDFDocument;
  let pages: number;
  try {
    pdf = await PDFDocument.load(bytes, { updateMetadata: false });
    // pdf-lib parses leniently: a damaged file may load and only fail once its page tree is read.
    pages = pdf.getPageCount();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (/encrypt/i.test(reason)) {
      throw new FaxValidationError(
        'ENCRYPTED_PDF',
        `${label} is an encrypted PDF; send it without a password.`,
      );
    }
    throw new FaxValidationError('CORRUPT_PDF', `${label} is not a readable PDF (${reason.split('\n')[0]}).`);
  }
  if (pdf.isEncrypted) {
    throw new FaxValidationError(
      'ENCRYPTED_PDF',
      `${label} is an encrypted PDF; send it without a password.`,
    );
  }
  if (pages === 0) {
    throw new FaxValidationError('CORRUPT_PDF', `${label} is a PDF with no pages.`);
  }
  return { ...detected, pages };
}
