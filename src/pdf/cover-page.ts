import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';

export interface CoverPageContent {
  to: string;
  toName?: string;
  from?: string;
  /** Pages that follow the cover. */
  pages: number;
  /** ISO date the fax was submitted; also the PDF's metadata dates, so the bytes are reproducible. */
  date: string;
  note?: string;
  confidential?: boolean;
}

const CONFIDENTIAL_NOTICE =
  'CONFIDENTIAL: this fax may contain privileged or confidential information intended only for the ' +
  'recipient named above. If you received it in error, please notify the sender and destroy it.';

/** A one-page US Letter cover sheet: recipient, sender, page count, date, note, notice. */
export async function makeCoverPage(content: CoverPageContent): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const date = new Date(content.date);
  pdf.setTitle('Fax cover page');
  pdf.setCreationDate(date);
  pdf.setModificationDate(date);
  pdf.setProducer('faxflow');
  pdf.setCreator('faxflow');
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const page = pdf.addPage([612, 792]);
  page.drawText('FAX', { x: 72, y: 700, size: 36, font: bold });
  const rows: [string, string][] = [
    ['To', content.toName ? `${content.toName} (${content.to})` : content.to],
    ['From', content.from ?? ''],
    ['Date', date.toISOString().slice(0, 10)],
    ['Pages', `${content.pages + 1} including this cover`],
  ];
  let y = 640;
  for (const [label, value] of rows) {
    page.drawText(`${label}:`, { x: 72, y, size: 13, font: bold });
    page.drawText(sanitize(value), { x: 150, y, size: 13, font });
    y -= 24;
  }
  if (content.note) {
    y -= 16;
    for (const line of wrap(sanitize(content.note), 80).slice(0, 30)) {
      page.drawText(line, { x: 72, y, size: 12, font });
      y -= 16;
    }
  }
  if (content.confidential) {
    let ny = 110;
    for (const line of wrap(CONFIDENTIAL_NOTICE, 95)) {
      page.drawText(line, { x: 72, y: ny, size: 9, font, color: rgb(0.2, 0.2, 0.2) });
      ny -= 12;
    }
  }
  return pdf.save({ useObjectStreams: false });
}

/** Helvetica's WinAnsi encoding cannot draw every character: replace what it cannot. */
function sanitize(text: string): string {
  return text.normalize('NFKD').replace(/[^\x20-\x7e\n]/g, '?');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/)) {
      if (line && line.length + word.length + 1 > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}
