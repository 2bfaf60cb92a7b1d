/**
 * Documents never travel through Temporal payloads (2 MB limit, and histories are kept for weeks):
 * they are stored once, addressed by their SHA-256, and workflows carry a `DocumentRef`.
 */
export interface DocumentRef {
  /** Hex SHA-256 of the bytes: the storage key and the fingerprint used to spot duplicates. */
  readonly sha256: string;
  readonly size: number;
  /** The name the fax will carry, already cleaned of characters RingCentral refuses. */
  readonly filename: string;
  readonly contentType: string;
}

export interface DocumentStore {
  /** Stores the bytes (idempotent: the same bytes give the same key) and returns their reference. */
  put(bytes: Uint8Array, meta: { filename: string; contentType: string }): Promise<DocumentRef>;
  /** Reads the bytes back; throws `DocumentNotFoundError` when the key is unknown. */
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
}

export class DocumentNotFoundError extends Error {
  override name = 'DocumentNotFoundError';
  constructor(readonly sha256: string) {
    super(`Document ${sha256} is not in the document store.`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) {
    throw new Error(`"${sha256}" is not a document reference (expected 64 lowercase hex characters).`);
  }
}
