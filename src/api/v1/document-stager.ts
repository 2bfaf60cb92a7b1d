import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DocumentRef } from '../../storage/document-store';
import { detectContentType, SUPPORTED_TYPES_SENTENCE } from '../../validation/content-type';
import { cleanFilename } from '../../validation/filename';
import { MAX_TOTAL_BYTES } from '../../validation/limits';
import { FaxValidationError } from '../../validation/validation-error';
import { ApiError, formatBytes } from '../errors';

/** What content sniffing looks at: the first 64 KiB (text) and the last 1 KiB (a PDF's %%EOF). */
const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 1024;
const PDF_EOF = Buffer.from('%%EOF', 'latin1');

/** Thrown while streaming when the documents together pass the limit: the upload is cut off. */
export function documentsTooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    'PAYLOAD_TOO_LARGE',
    `The documents are larger than the ${formatBytes(limit)} allowed per fax; the upload was stopped.`,
    // The rest of the body is only drained, for a bounded time, and never kept: see
    // installLingeringClose.
    {},
    { limitBytes: limit },
  );
}

interface Staged {
  tmpPath: string;
  ref: DocumentRef;
}

/**
 * Streams uploaded files into the content-addressed document store (the local store's layout:
 * `<root>/ab/abcdef…`), hashing and counting on the way, so that a 50 MB file costs a 64 KiB buffer,
 * not 50 MB of memory. Files wait under `<root>/.incoming` until `commit()` moves them into place
 * (then the request is accepted), or `discard()` deletes them (a rejected request stores nothing).
 */
export class DocumentStager {
  private readonly staged: Staged[] = [];
  private total = 0;

  constructor(
    private readonly root: string,
    private readonly limitBytes = MAX_TOTAL_BYTES,
  ) {}

  get count(): number {
    return this.staged.length;
  }

  /** References of the files staged so far, in order. */
  refs(): DocumentRef[] {
    return this.staged.map((s) => s.ref);
  }

  /** Streams one file; throws 413 past the limit and FaxValidationError (422) for what is not a document. */
  async stage(source: Readable, givenName: string): Promise<DocumentRef> {
    const incoming = path.join(this.root, '.incoming');
    await mkdir(incoming, { recursive: true });
    const tmpPath = path.join(incoming, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    const headChunks: Buffer[] = [];
    let headLength = 0;
    let tail = Buffer.alloc(0);
    let size = 0;
    const limit = this.limitBytes;
    const addToTotal = (n: number): number => (this.total += n);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        size += chunk.length;
        if (addToTotal(chunk.length) > limit) {
          done(documentsTooLarge(limit));
          return;
        }
        hash.update(chunk);
        if (headLength < HEAD_BYTES) {
          const part = chunk.subarray(0, HEAD_BYTES - headLength);
          headChunks.push(Buffer.from(part));
          headLength += part.length;
        }
        tail = Buffer.concat([tail, chunk.subarray(Math.max(0, chunk.length - TAIL_BYTES))]).subarray(
          -TAIL_BYTES,
        );
        done(null, chunk);
      },
    });
    // Registered before the first byte lands, so that a failure anywhere still removes the file.
    const entry: Staged = {
      tmpPath,
      ref: { sha256: '', size: 0, filename: givenName, contentType: '' },
    };
    this.staged.push(entry);
    try {
      await pipeline(source, meter, createWriteStream(tmpPath));
    } catch (err) {
      // busboy's own errors (a truncated or malformed form) carry no status: say what happened.
      if (err instanceof ApiError || typeof (err as { statusCode?: unknown }).statusCode === 'number')
        throw err;
      throw new ApiError(
        400,
        'INVALID_MULTIPART',
        'The multipart body is malformed or ended early; send a complete multipart/form-data body.',
      );
    }
    // A file cut by the multipart parser's own limit is not an error from the stream itself.
    if ((source as Readable & { truncated?: boolean }).truncated) throw documentsTooLarge(this.limitBytes);

    const label =
      this.staged.length > 1 ? `Document ${this.staged.length} (${givenName})` : givenName || 'The document';
    if (size === 0) {
      throw new FaxValidationError(
        'EMPTY_DOCUMENT',
        `${label} is empty (0 bytes); a fax needs at least one page.`,
      );
    }
    const head = Buffer.concat(headChunks);
    const detected = detectContentType(head);
    if (!detected) {
      throw new FaxValidationError(
        'UNSUPPORTED_TYPE',
        `${label} is not a supported document type; send ${SUPPORTED_TYPES_SENTENCE}.`,
      );
    }
    if (detected.contentType === 'application/pdf' && !tail.includes(PDF_EOF)) {
      throw new FaxValidationError(
        'CORRUPT_PDF',
        `${label} is not a readable PDF (it has no %%EOF trailer: the file is truncated or damaged).`,
      );
    }
    entry.ref = {
      sha256: hash.digest('hex'),
      size,
      filename: cleanFilename(givenName || 'document', detected.extension),
      contentType: detected.contentType,
    };
    return entry.ref;
  }

  /** Moves every staged file into the store under its hash (one already there is kept). */
  async commit(): Promise<DocumentRef[]> {
    for (const s of this.staged) {
      const target = path.join(this.root, s.ref.sha256.slice(0, 2), s.ref.sha256);
      if (await exists(target)) {
        await unlink(s.tmpPath).catch(() => undefined);
      } else {
        await mkdir(path.dirname(target), { recursive: true });
        await rename(s.tmpPath, target);
      }
    }
    const refs = this.staged.map((s) => s.ref);
    this.staged.length = 0;
    return refs;
  }

  /** Deletes whatever was staged: nothing of a refused request stays on disk. */
  async discard(): Promise<void> {
    await Promise.all(this.staged.map((s) => unlink(s.tmpPath).catch(() => undefined)));
    this.staged.length = 0;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
