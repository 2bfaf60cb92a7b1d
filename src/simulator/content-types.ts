/**
 * Attachment checks: filename characters, supported types (by extension AND by content where the
 * format has magic bytes), and the content type the simulator records for the document.
 */

export const SUPPORTED_EXTENSIONS = new Set([
  'pdf', 'psd', 'doc', 'docx', 'dot', 'mcw', 'xls', 'xlsx', 'xlsb', 'ppt', 'pptx', 'vsd', 'vdx', 'pub', 'wps',
  'wri', 'awd', 'tif', 'tiff', 'gif', 'jpg', 'jpeg', 'bmp', 'png', 'pcx', 'tga', 'rtf', 'txt', 'log', 'h',
  'cpp', 'c', 'err', 'hpp', 'wk1', 'wk3', 'wk4', 'wq1', 'xml', 'html', 'htm', 'csv',
]); // prettier-ignore

const TEXT_EXTENSIONS = new Set([
  'txt',
  'log',
  'h',
  'cpp',
  'c',
  'err',
  'hpp',
  'xml',
  'html',
  'htm',
  'csv',
  'vdx',
]);
const OLE_EXTENSIONS = new Set(['doc', 'dot', 'xls', 'xlsb', 'ppt', 'vsd', 'pub', 'wps', 'mcw', 'wk4']);
const ZIP_EXTENSIONS = new Set(['docx', 'xlsx', 'xlsb', 'pptx']);
/** Formats without a reliable signature: trusted by extension when the content is binary. */
const UNSNIFFED_EXTENSIONS = new Set([
  'mcw',
  'wri',
  'awd',
  'pcx',
  'tga',
  'wk1',
  'wk3',
  'wk4',
  'wq1',
  'wps',
  'pub',
  'vsd',
]);

/** Characters RingCentral refuses in attachment file names. */
export const FORBIDDEN_FILENAME_CHARS = /[&@#$%^*<>:"/\\|?{}~\u0000-\u001f]/;

export type SniffedKind =
  | 'pdf' | 'tiff' | 'gif' | 'jpeg' | 'png' | 'bmp' | 'psd' | 'rtf' | 'ole' | 'zip' | 'text' | 'forbidden'
  | 'binary'; // prettier-ignore

const KIND_CONTENT_TYPE: Record<string, string> = {
  pdf: 'application/pdf',
  tiff: 'image/tiff',
  gif: 'image/gif',
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
  psd: 'image/vnd.adobe.photoshop',
  rtf: 'application/rtf',
};

const EXT_CONTENT_TYPE: Record<string, string> = {
  doc: 'application/msword',
  dot: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xlsb: 'application/vnd.ms-excel.sheet.binary.macroEnabled.12',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  txt: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  xml: 'text/xml',
  html: 'text/html',
  htm: 'text/html',
};

function startsWith(buf: Buffer, bytes: number[], offset = 0): boolean {
  if (buf.length < offset + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[offset + i] !== bytes[i]) return false;
  return true;
}

function looksLikeText(buf: Buffer): boolean {
  const n = Math.min(buf.length, 8192);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i] as number;
    if (b === 0) return false;
    if (b < 0x09 || (b > 0x0d && b < 0x20)) control++;
  }
  return control <= n / 100;
}

export function sniff(buf: Buffer): SniffedKind {
  // PDF: the header may be preceded by up to 1 KB of junk
  const pdfAt = buf.subarray(0, 1024).indexOf('%PDF-');
  if (pdfAt !== -1) return 'pdf';
  if (startsWith(buf, [0x49, 0x49, 0x2a, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(buf, [0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(buf, [0x38, 0x42, 0x50, 0x53])) return 'psd';
  if (startsWith(buf, [0x7b, 0x5c, 0x72, 0x74, 0x66])) return 'rtf';
  if (startsWith(buf, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'ole';
  if (startsWith(buf, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  if (
    startsWith(buf, [0x4d, 0x5a]) || // MZ executables
    startsWith(buf, [0x7f, 0x45, 0x4c, 0x46]) || // ELF
    startsWith(buf, [0x1f, 0x8b]) || // gzip
    startsWith(buf, [0x52, 0x61, 0x72, 0x21]) || // RAR
    startsWith(buf, [0x37, 0x7a, 0xbc, 0xaf]) || // 7z
    startsWith(buf, [0x49, 0x44, 0x33]) || // MP3
    startsWith(buf, [0x66, 0x74, 0x79, 0x70], 4) || // MP4 / MOV
    startsWith(buf, [0x4f, 0x67, 0x67, 0x53]) || // OGG
    startsWith(buf, [0xca, 0xfe, 0xba, 0xbe]) || // Java class / Mach-O fat
    startsWith(buf, [0x52, 0x49, 0x46, 0x46]) // RIFF (wav/avi/webp)
  )
    return 'forbidden';
  if (startsWith(buf, [0x42, 0x4d]) && buf.length >= 26) return 'bmp';
  if (looksLikeText(buf)) return 'text';
  return 'binary';
}

export function extensionOf(filename: string): string | undefined {
  const dot = filename.lastIndexOf('.');
  if (dot <= 0 || dot === filename.length - 1) return undefined;
  return filename.slice(dot + 1).toLowerCase();
}

export type TypeCheck = { ok: true; kind: SniffedKind; contentType: string } | { ok: false; reason: string };

/**
 * Decide whether an attachment is a supported document. The content decides when it has a signature;
 * the extension decides for formats without one. `declared` is the part's Content-Type header.
 */
export function checkAttachmentType(filename: string, declared: string | undefined, body: Buffer): TypeCheck {
  const ext = extensionOf(filename);
  const kind = sniff(body);
  const extSupported = ext !== undefined && SUPPORTED_EXTENSIONS.has(ext);
  const fallbackType = (ext && EXT_CONTENT_TYPE[ext]) ?? declared ?? 'application/octet-stream';
  switch (kind) {
    case 'forbidden':
      return { ok: false, reason: 'content is not a supported document (executable, archive or media file)' };
    case 'pdf':
    case 'tiff':
    case 'gif':
    case 'jpeg':
    case 'png':
    case 'bmp':
    case 'psd':
    case 'rtf':
      // the content is a supported format, whatever the name says
      return { ok: true, kind, contentType: KIND_CONTENT_TYPE[kind] ?? fallbackType };
    case 'ole':
      if (ext === undefined || OLE_EXTENSIONS.has(ext)) return { ok: true, kind, contentType: fallbackType };
      return { ok: false, reason: `an OLE compound document named .${ext} is not supported` };
    case 'zip':
      if (ext !== undefined && ZIP_EXTENSIONS.has(ext)) return { ok: true, kind, contentType: fallbackType };
      return { ok: false, reason: 'zip archives are not supported' };
    case 'text':
      if (ext === undefined) {
        if (declared === undefined || declared.startsWith('text/') || declared === 'application/octet-stream')
          return { ok: true, kind, contentType: 'text/plain' };
        return { ok: false, reason: `declared ${declared} but content is plain text` };
      }
      if (TEXT_EXTENSIONS.has(ext)) return { ok: true, kind, contentType: fallbackType };
      return { ok: false, reason: `.${ext} files are not supported as text` };
    case 'binary':
      if (extSupported && ext !== undefined && UNSNIFFED_EXTENSIONS.has(ext))
        return { ok: true, kind, contentType: fallbackType };
      return {
        ok: false,
        reason: extSupported ? `content does not match .${ext}` : 'unsupported media type',
      };
  }
}
