import { makeSamplePdf } from '../../src/pdf/sample-document';

export { makeSamplePdf };

/** A real PDF whose trailer declares encryption, as a password-protected export would. */
export async function makeEncryptedPdf(): Promise<Uint8Array> {
  const text = Buffer.from(await makeSamplePdf(1)).toString('latin1');
  const patched = text.replace(/trailer\s*<<\s*/, (m) => `${m}/Encrypt << /Filter /Standard /V 1 /R 2 >>\n`);
  if (patched === text) throw new Error('fixture: no trailer found');
  return Buffer.from(patched, 'latin1');
}

/** Starts like a PDF, then is garbage: a truncated or damaged upload. */
export function makeCorruptPdf(): Uint8Array {
  return Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n%% truncated here', 'latin1');
}
