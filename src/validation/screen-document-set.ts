import { detectContentType, SUPPORTED_TYPES_SENTENCE } from './content-type';
import { cleanFilename } from './filename';
import { FaxValidationError } from './validation-error';
import { checkDocumentSetSize } from './document-set-size';

export interface ScreenedDocument {
  filename: string;
  contentType: string;
}

/** A PDF ends with `%%EOF`; writers may append a little after it (the spec allows 1 KiB). */
const PDF_TAIL_BYTES = 1024;
const PDF_EOF = Buffer.from('%%EOF', 'latin1');

/**
 * The checks a submission gets before anything is stored or started, all cheap: at least one
 * document, none empty, at most 50 MB together, each of a supported type (from its first bytes),
 * and a PDF not cut short. Pages, encryption and a damaged PDF inside are found by `prepareFaxJob`,
 * which parses the documents once (inspectDocumentSet) and rejects the job with the same codes.
 */
export function screenDocumentSet(docs: { bytes: Uint8Array; name: string }[]): ScreenedDocument[] {
  checkDocumentSetSize(docs);
  return docs.map((doc, i) => {
    const label = docs.length > 1 ? `Document ${i + 1} (${doc.name})` : doc.name;
    if (doc.bytes.byteLength === 0) {
      throw new FaxValidationError(
        'EMPTY_DOCUMENT',
        `${label} is empty (0 bytes); a fax needs at least one page.`,
      );
    }
    const detected = detectContentType(doc.bytes);
    if (!detected) {
      throw new FaxValidationError(
        'UNSUPPORTED_TYPE',
        `${label} is not a supported document type; send ${SUPPORTED_TYPES_SENTENCE}.`,
      );
    }
    if (detected.contentType === 'application/pdf' && !hasPdfTrailer(doc.bytes)) {
      throw new FaxValidationError(
        'CORRUPT_PDF',
        `${label} is not a readable PDF (it has no %%EOF trailer: the file is truncated or damaged).`,
      );
    }
    return { filename: cleanFilename(doc.name, detected.extension), contentType: detected.contentType };
  });
}

function hasPdfTrailer(bytes: Uint8Array): boolean {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(-PDF_TAIL_BYTES);
  return tail.includes(PDF_EOF);
}
