import { describe, expect, it } from 'vitest';
import { screenDocumentSet } from '../../src/validation/screen-document-set';
import { FaxValidationError } from '../../src/validation/validation-error';
import { makeCorruptPdf, makeEncryptedPdf, makeSamplePdf } from '../support/pdf-fixtures';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FaxValidationError);
    return (err as FaxValidationError).code;
  }
  throw new Error('expected a FaxValidationError');
}

describe('screenDocumentSet (the client-side check before anything is stored)', () => {
  it('types documents from their bytes and cleans their names without parsing them', async () => {
    const pdf = await makeSamplePdf(2);
    // An encrypted PDF passes the screen: finding that out means parsing it, prepareFaxJob's job.
    const encrypted = await makeEncryptedPdf();
    expect(
      screenDocumentSet([
        { bytes: pdf, name: 'letter #1.pdf' },
        { bytes: encrypted, name: 'b.pdf' },
        { bytes: Buffer.from('Dear Sir,\n'), name: 'note' },
      ]),
    ).toEqual([
      { filename: expect.stringMatching(/\.pdf$/), contentType: 'application/pdf' },
      { filename: 'b.pdf', contentType: 'application/pdf' },
      { filename: 'note.txt', contentType: 'text/plain' },
    ]);
  });

  it('refuses no documents, an empty one, an unknown type and a truncated PDF with their codes', () => {
    expect(codeOf(() => screenDocumentSet([]))).toBe('NO_DOCUMENTS');
    expect(codeOf(() => screenDocumentSet([{ bytes: new Uint8Array(), name: 'a.pdf' }]))).toBe(
      'EMPTY_DOCUMENT',
    );
    expect(codeOf(() => screenDocumentSet([{ bytes: Buffer.from([0, 0x9f, 0xff]), name: 'x.pdf' }]))).toBe(
      'UNSUPPORTED_TYPE',
    );
    expect(codeOf(() => screenDocumentSet([{ bytes: makeCorruptPdf(), name: 'bad.pdf' }]))).toBe(
      'CORRUPT_PDF',
    );
  });

  it('refuses more than 50 MB in all', () => {
    const big = Buffer.alloc(26 * 1024 * 1024, 0x41);
    expect(
      codeOf(() =>
        screenDocumentSet([
          { bytes: big, name: 'a.txt' },
          { bytes: big, name: 'b.txt' },
        ]),
      ),
    ).toBe('DOCUMENT_TOO_LARGE');
  });
});
