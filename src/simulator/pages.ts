/** Page counting for rendering: PDF via pdf-lib (with a tolerant fallback), TIFF via its IFD chain. */
import { PDFDocument } from 'pdf-lib';
import type { SniffedKind } from './content-types';

export type PageCount = { ok: true; pages: number } | { ok: false };

const CACHE_MAX = 2000;
/** Results by document digest: the same bytes always render to the same number of pages. */
const cache = new Map<string, PageCount>();

export async function countPages(kind: SniffedKind, body: Buffer, sha256?: string): Promise<PageCount> {
  if (kind !== 'pdf' && kind !== 'tiff') return { ok: true, pages: 1 };
  const key = sha256 !== undefined ? `${kind}:${sha256}` : undefined;
  const hit = key !== undefined ? cache.get(key) : undefined;
  if (hit) return hit;
  const result = kind === 'pdf' ? await countPdfPages(body) : countTiffPages(body);
  if (key !== undefined) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, result);
  }
  return result;
}

async function countPdfPages(body: Buffer): Promise<PageCount> {
  try {
    const doc = await PDFDocument.load(body, { ignoreEncryption: true, updateMetadata: false });
    const n = doc.getPageCount();
    if (n > 0) return { ok: true, pages: n };
  } catch {
    // fall through to the tolerant count
  }
  // Tolerant fallback (e.g. a PDF with a broken xref table): count page objects.
  const text = body.toString('latin1');
  const matches = text.match(/\/Type\s*\/Page(?![s\w])/g);
  return matches && matches.length > 0 ? { ok: true, pages: matches.length } : { ok: false };
}

function countTiffPages(buf: Buffer): PageCount {
  try {
    const little = buf[0] === 0x49;
    const u16 = (o: number): number => (little ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const u32 = (o: number): number => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    let offset = u32(4);
    let pages = 0;
    const seen = new Set<number>();
    while (offset !== 0) {
      if (seen.has(offset) || offset + 2 > buf.length || pages > 10_000)
        return pages > 0 ? { ok: true, pages } : { ok: false };
      seen.add(offset);
      pages++;
      const entries = u16(offset);
      const next = offset + 2 + entries * 12;
      if (next + 4 > buf.length) break;
      offset = u32(next);
    }
    return pages > 0 ? { ok: true, pages } : { ok: false };
  } catch {
    return { ok: false };
  }
}
