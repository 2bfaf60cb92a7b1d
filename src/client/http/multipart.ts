import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';

/**
 * A document for `sendFax`: a file on disk, bytes in memory, or a stream (Node or web), which is
 * sent as it is read, never buffered whole.
 */
export type FaxFile =
  | string
  | { path: string; filename?: string; contentType?: string }
  | { data: Uint8Array | Blob; filename: string; contentType?: string }
  | { stream: Readable | ReadableStream<Uint8Array>; filename: string; contentType?: string };

const TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.rtf': 'application/rtf',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export function contentTypeFor(filename: string): string {
  return TYPES[path.extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

interface Part {
  name: string;
  value?: string;
  file?: { filename: string; contentType: string; open: () => AsyncIterable<Uint8Array> };
}

export async function filePart(file: FaxFile): Promise<Part> {
  const f = typeof file === 'string' ? { path: file } : file;
  if ('path' in f) {
    await stat(f.path); // a missing file fails here, before any byte goes out
    const filename = f.filename ?? path.basename(f.path);
    return {
      name: 'file',
      file: {
        filename,
        contentType: f.contentType ?? contentTypeFor(filename),
        open: () => createReadStream(f.path),
      },
    };
  }
  if ('data' in f) {
    const data = f.data;
    return {
      name: 'file',
      file: {
        filename: f.filename,
        contentType: f.contentType ?? contentTypeFor(f.filename),
        open: async function* () {
          yield data instanceof Blob ? new Uint8Array(await data.arrayBuffer()) : data;
        },
      },
    };
  }
  const stream = f.stream;
  return {
    name: 'file',
    file: {
      filename: f.filename,
      contentType: f.contentType ?? contentTypeFor(f.filename),
      open: () => (stream instanceof Readable ? stream : Readable.fromWeb(stream as never)),
    },
  };
}

const quoteName = (s: string) => s.replace(/[\r\n"\\]/g, '_');

/** `multipart/form-data` as a stream: fields first, then each file as it is read. */
export function multipartBody(parts: Part[]): { contentType: string; body: ReadableStream<Uint8Array> } {
  const boundary = `faxflow-${randomBytes(16).toString('hex')}`;
  const enc = new TextEncoder();
  async function* generate(): AsyncGenerator<Uint8Array> {
    for (const p of parts) {
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(p.name)}"`;
      if (p.file) {
        head += `; filename="${quoteName(p.file.filename)}"\r\nContent-Type: ${p.file.contentType}\r\n\r\n`;
        yield enc.encode(head);
        for await (const chunk of p.file.open())
          yield chunk instanceof Uint8Array ? chunk : enc.encode(String(chunk));
      } else {
        yield enc.encode(`${head}\r\n\r\n${p.value ?? ''}`);
      }
      yield enc.encode('\r\n');
    }
    yield enc.encode(`--${boundary}--\r\n`);
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Readable.toWeb(Readable.from(generate())) as ReadableStream<Uint8Array>,
  };
}

export type { Part as MultipartPart };
