import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { V1Fax } from '../contracts/v1-api';

export interface TransmissionReportInput {
  fax: V1Fax;
  /** SHA-256 over the documents' hashes in order (the job's fingerprint). */
  documentSetSha256?: string;
  /** The first document's bytes when it is a PDF: page 1 is drawn as a thumbnail. */
  firstPdf?: Uint8Array;
  /** When the report was drawn (also the PDF's metadata dates). Default now. */
  generatedAt?: Date;
}

const PAGE: [number, number] = [612, 792]; // US Letter
const MARGIN = 54;
const THUMB_WIDTH = 150;
const GREY = rgb(0.35, 0.35, 0.35);

/**
 * Proof of transmission for one fax, drawn with pdf-lib: recipient, pages, every attempt (time,
 * outcome, RingCentral message id), the final status, the documents' SHA-256, and a thumbnail of
 * page 1 when the source is a PDF (its first page embedded as a form XObject, scaled down). Text
 * is kept to WinAnsi; values that cannot be drawn are replaced by `?`.
 */
export async function renderTransmissionReport(input: TransmissionReportInput): Promise<Uint8Array> {
  const { fax } = input;
  const generatedAt = input.generatedAt ?? new Date();
  const pdf = await PDFDocument.create();
  pdf.setTitle(`Transmission report ${fax.id}`);
  pdf.setProducer('faxflow');
  pdf.setCreator('faxflow');
  pdf.setCreationDate(generatedAt);
  pdf.setModificationDate(generatedAt);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const mono = await pdf.embedFont(StandardFonts.Courier);

  let page = pdf.addPage(PAGE);
  let y = PAGE[1] - MARGIN;
  const text = (s: string, x: number, size: number, f: PDFFont = font, color = rgb(0, 0, 0)) =>
    page.drawText(clean(s), { x, y, size, font: f, color });
  const newline = (dy: number) => {
    y -= dy;
    if (y < MARGIN + 20) {
      page = pdf.addPage(PAGE);
      y = PAGE[1] - MARGIN;
    }
  };

  text('Fax transmission report', MARGIN, 20, bold);
  newline(16);
  text(`faxflow - generated ${generatedAt.toISOString()}`, MARGIN, 9, font, GREY);

  // Page 1 thumbnail, top right, beside the summary.
  let thumbBottom = y;
  if (input.firstPdf) {
    try {
      const source = await PDFDocument.load(input.firstPdf, { ignoreEncryption: true });
      const [first] = await pdf.embedPdf(source, [0]);
      if (first) {
        const scale = THUMB_WIDTH / first.width;
        const w = first.width * scale;
        const h = first.height * scale;
        const x = PAGE[0] - MARGIN - w;
        const top = y - 10;
        page.drawRectangle({
          x: x - 1,
          y: top - h - 1,
          width: w + 2,
          height: h + 2,
          borderColor: GREY,
          borderWidth: 0.5,
        });
        page.drawPage(first, { x, y: top - h, width: w, height: h });
        page.drawText('Page 1', { x, y: top - h - 12, size: 8, font, color: GREY });
        thumbBottom = top - h - 16;
      }
    } catch {
      // A source pdf-lib cannot read (it passed validation elsewhere) simply gets no thumbnail.
    }
  }

  newline(28);
  const rows: [string, string][] = [
    ['Fax', fax.id],
    ['Recipient', fax.recipientName ? `${fax.recipientName} (${fax.to})` : fax.to],
    ['Pages', fax.pages === null ? 'unknown' : String(fax.pages)],
    ['Final status', `${fax.status}${fax.final ? '' : ' (not final yet)'}`],
    ['Submitted', fax.createdAt],
    ['Completed', fax.completedAt ?? '-'],
  ];
  if (fax.broadcastId) rows.push(['Broadcast', fax.broadcastId]);
  if (fax.error) rows.push(['Error', `${fax.error.code}: ${fax.error.message}`]);
  for (const [label, value] of rows) {
    text(`${label}:`, MARGIN, 11, bold);
    for (const [i, line] of wrap(value, 48).entries()) {
      if (i > 0) newline(14);
      text(line, MARGIN + 90, 11);
    }
    newline(18);
  }
  y = Math.min(y, thumbBottom);
  newline(12);

  heading(page, bold, 'Attempts', y);
  newline(18);
  if (fax.attempts.length === 0) {
    text('No send attempt was made.', MARGIN, 10);
    newline(14);
  }
  for (const a of fax.attempts) {
    text(`#${a.attempt}`, MARGIN, 10, bold);
    text(a.startedAt, MARGIN + 28, 10);
    text(a.status, MARGIN + 190, 10, bold);
    text(`message ${a.messageId ?? '-'}`, MARGIN + 300, 10, mono);
    newline(13);
    const detail = [
      a.finishedAt && `ended ${a.finishedAt}`,
      a.faxErrorCode && `fax error ${a.faxErrorCode}`,
      a.errorCode && `error ${a.errorCode}`,
    ].filter(Boolean);
    if (detail.length > 0) {
      text(detail.join(' - '), MARGIN + 28, 9, font, GREY);
      newline(13);
    }
    newline(3);
  }

  newline(10);
  heading(page, bold, 'Documents (SHA-256)', y);
  newline(18);
  for (const d of fax.documents) {
    text(`${d.filename} (${d.contentType}, ${d.sizeBytes} bytes)`, MARGIN, 10);
    newline(13);
    text(d.sha256, MARGIN + 10, 9, mono);
    newline(16);
  }
  if (input.documentSetSha256) {
    text('Document set:', MARGIN, 10, bold);
    newline(13);
    text(input.documentSetSha256, MARGIN + 10, 9, mono);
    newline(16);
  }

  const pages = pdf.getPages();
  pages.forEach((p, i) =>
    p.drawText(`${clean(fax.id)} - page ${i + 1} of ${pages.length}`, {
      x: MARGIN,
      y: 30,
      size: 8,
      font,
      color: GREY,
    }),
  );
  return pdf.save();
}

function heading(page: PDFPage, bold: PDFFont, title: string, y: number): void {
  page.drawText(title, { x: MARGIN, y, size: 13, font: bold });
  page.drawLine({
    start: { x: MARGIN, y: y - 4 },
    end: { x: PAGE[0] - MARGIN, y: y - 4 },
    thickness: 0.5,
    color: GREY,
  });
}

function clean(s: string): string {
  return s.normalize('NFKD').replace(/[^\x20-\x7e]/g, '?');
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += width) out.push(s.slice(i, i + width));
  return out.length > 0 ? out : [''];
}
