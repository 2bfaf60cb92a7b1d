import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertSha256, DocumentNotFoundError, type DocumentRef, type DocumentStore } from './document-store';

/**
 * Content-addressed store on the local filesystem: `<root>/ab/abcdef…`. Writes go to a temporary
 * file and are renamed into place, so a crash never leaves a half-written document under its key.
 */
export function createLocalDocumentStore(root: string): DocumentStore {
  const pathOf = (sha256: string): string => {
    assertSha256(sha256);
    return path.join(root, sha256.slice(0, 2), sha256);
  };

  return {
    async put(bytes, meta) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const target = pathOf(sha256);
      if (!(await exists(target))) {
        await mkdir(path.dirname(target), { recursive: true });
        const tmp = `${target}.${randomUUID()}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, target);
      }
      return { sha256, size: bytes.byteLength, filename: meta.filename, contentType: meta.contentType };
    },
    async get(sha256) {
      try {
        return await readFile(pathOf(sha256));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DocumentNotFoundError(sha256);
        throw err;
      }
    },
    async has(sha256) {
      return exists(pathOf(sha256));
    },
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

export type { DocumentRef };
