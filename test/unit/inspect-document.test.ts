import { describe, expect, it } from 'vitest';
import { inspectDocument } from '../../src/validation/inspect-document';
import { inspectDocumentSet } from '../../src/validation/inspect-document-set';
import { FaxValidationError } from '../../src/validation/validation-error';
import { makeCorruptPdf, makeEncryptedPdf, makeSamplePdf } from '../support/pdf-fixtures';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FaxValidationError);
    return (err as FaxValidationError).code;
  }
  throw new Error('expected a FaxValidationError');
}

describe('inspectDocument', () => {
  it('counts the pages of a PDF', async () => {
    const result = await inspectDocument(await makeSamplePdf(3), 'a.pdf');
    expect(result).toEqual({ contentType: 'application/pdf', extension: 'pdf', pages: 3 });
  });

  it('detects the type from the bytes, not the name', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(await inspectDocument(png, 'scan.pdf')).toMatchObject({ contentType: 'image/png', pages: 1 });
    expect(await inspectDocument(Buffer.from('Dear Sir,\nplease find...\n'), 'letter.pdf')).toMatchObject({
      contentType: 'text/plain',
    });
  });

  it('refuses empty, unknown, corrupt and encrypted documents with their codes', async () => {
    expect(await codeOf(inspectDocument(new Uint8Array(0), 'empty.pdf'))).toBe('EMPTY_DOCUMENT');
    expect(await codeOf(inspectDocument(Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe]), 'x.bin'))).toBe(
      'UNSUPPORTED_TYPE',
    );
    expect(await codeOf(inspectDocument(makeCorruptPdf(), 'bad.pdf'))).toBe('CORRUPT_PDF');
    expect(await codeOf(inspectDocument(await makeEncryptedPdf(), 'secret.pdf'))).toBe('ENCRYPTED_PDF');
  });

  it('says what was wrong and what is allowed', async () => {
    await expect(inspectDocument(Buffer.from([0x00, 0x01, 0xff]), 'x.bin')).rejects.toThrow(
      'x.bin is not a supported document type; send PDF, TIFF, PNG, JPEG, GIF, BMP or plain text.',
    );
  });
});

describe('inspectDocumentSet', () => {
  it('sums pages across documents and cleans filenames', async () => {
    const set = await inspectDocumentSet([
      { bytes: await makeSamplePdf(2), name: 'R&D report #1.pdf' },
      { bytes: await makeSamplePdf(1), name: 'annex' },
    ]);
    expect(set.pages).toBe(3);
    expect(set.documents.map((d) => d.filename)).toEqual(['R_D report _1.pdf', 'annex.pdf']);
  });

  it('refuses more than 200 pages in all', async () => {
    const big = await makeSamplePdf(101);
    expect(
      await codeOf(
        inspectDocumentSet([
          { bytes: big, name: 'a.pdf' },
          { bytes: big, name: 'b.pdf' },
        ]),
      ),
    ).toBe('TOO_MANY_PAGES');
  });

  it('refuses more than 50 MB in all before parsing anything', async () => {
    const chunk = new Uint8Array(26 * 1024 * 1024).fill(0x41);
    await expect(
      inspectDocumentSet([
        { bytes: chunk, name: 'a.txt' },
        { bytes: chunk, name: 'b.txt' },
      ]),
    ).rejects.toThrow(/total 52\.0 MB; RingCentral accepts at most 50\.0 MB/);
  });

  it('refuses an empty set', async () => {
    expect(await codeOf(inspectDocumentSet([]))).toBe('NO_DOCUMENTS');
  });
});
