import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DocumentStager } from '../../../src/api/v1/document-stager';
import { tempDir } from '../../support/database';

const CHUNK = 64 * 1024;
const CHUNKS = 512; // 32 MiB, under the 50 MB limit
const MIB = 1024 * 1024;

/** A PDF-looking upload produced on demand (pull-based), like a socket that is only read when asked. */
function upload(onRead: (produced: number) => void) {
  const head = Buffer.alloc(CHUNK, 0x41);
  head.write('%PDF-1.7\n% streamed\n', 'latin1');
  const filler = Buffer.alloc(CHUNK, 0x42);
  const tail = Buffer.alloc(CHUNK, 0x43);
  tail.write('\n%%EOF\n', CHUNK - 7, 'latin1');
  const hash = createHash('sha256');
  let i = 0;
  let produced = 0;
  const source = new Readable({
    read() {
      onRead(produced);
      if (i === CHUNKS) {
        this.push(null);
        return;
      }
      const chunk = i === 0 ? head : i === CHUNKS - 1 ? tail : filler;
      hash.update(chunk);
      produced += chunk.length;
      i++;
      this.push(chunk);
    },
  });
  return { source, sha256: () => hash.digest('hex') };
}

describe('DocumentStager', () => {
  it('streams a 32 MiB upload to disk as it arrives, never holding more than a few chunks of it', async () => {
    const root = await tempDir();
    const incoming = path.join(root, '.incoming');
    // How far the upload is read ahead of what has reached the staged file, at every read.
    let maxAhead = 0;
    const onDisk = (): number => {
      const files = readdirSync(incoming, { withFileTypes: true }).filter((f) => f.isFile());
      return files.length === 1 ? statSync(path.join(incoming, files[0]!.name)).size : 0;
    };
    const { source, sha256 } = upload((produced) => {
      if (produced > 0) maxAhead = Math.max(maxAhead, produced - onDisk());
    });
    const stager = new DocumentStager(root);

    const ref = await stager.stage(source, 'big.pdf');

    expect(ref).toEqual({
      sha256: sha256(),
      size: CHUNK * CHUNKS,
      filename: 'big.pdf',
      contentType: 'application/pdf',
    });
    // Backpressure all the way to the file: the source is read only as fast as the disk takes it.
    // A stager that collected the upload (or piped without backpressure) would be MiBs ahead.
    expect(maxAhead).toBeGreaterThan(0);
    expect(maxAhead).toBeLessThan(2 * MIB);
    const [committed] = await stager.commit();
    expect(committed).toEqual(ref);
    expect((await stat(path.join(root, ref.sha256.slice(0, 2), ref.sha256))).size).toBe(CHUNK * CHUNKS);
  });
});
