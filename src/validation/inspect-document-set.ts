import { cleanFilename } from './filename';
import { inspectDocument } from './inspect-document';
import { MAX_TOTAL_PAGES } from './limits';
import { FaxValidationError } from './validation-error';
import { checkDocumentSetSize } from './document-set-size';

export interface InspectedDocumentSet {
  documents: { filename: string; contentType: string; pages: number }[];
  pages: number;
  totalBytes: number;
}

/**
 * Checks a fax's whole document set against RingCentral's rules: at least one document, each of
 * a supported type and readable, at most 50 MB and 200 pages together. Filenames come back cleaned
 * of the characters RingCentral refuses, with the extension of the detected type.
 */
export async function inspectDocumentSet(
  docs: { bytes: Uint8Array; name: string }[],
): Promise<InspectedDocumentSet> {
  const totalBytes = checkDocumentSetSize(docs);
  const documents: InspectedDocumentSet['documents'] = [];
  let pages = 0;
  for (const [i, doc] of docs.entries()) {
    const inspected = await inspectDocument(
      doc.bytes,
      docs.length > 1 ? `Document ${i + 1} (${doc.name})` : doc.name,
    );
    pages += inspected.pages;
    documents.push({
      filename: cleanFilename(doc.name, inspected.extension),
      contentType: inspected.contentType,
      pages: inspected.pages,
    });
  }
  if (pages > MAX_TOTAL_PAGES) {
    throw new FaxValidationError(
      'TOO_MANY_PAGES',
      `The documents have ${pages} pages in all; RingCentral accepts at most ${MAX_TOTAL_PAGES} per fax.`,
    );
  }
  return { documents, pages, totalBytes };
}
