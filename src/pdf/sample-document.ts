import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';

/** A small multi-page PDF, made on the spot: the demo's document and the tests' fixture. */
export async function makeSamplePdf(pages = 3, title = 'faxflow sample'): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(title);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= pages; i++) {
    const page = pdf.addPage([612, 792]); // US Letter, in points
    page.drawText(title, { x: 72, y: 700, size: 24, font, color: rgb(0, 0, 0) });
    page.drawText(`Page ${i} of ${pages}`, { x: 72, y: 660, size: 14, font });
  }
  return pdf.save({ useObjectStreams: false });
}
