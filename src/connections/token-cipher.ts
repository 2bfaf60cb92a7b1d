/**
 * Encryption at rest for connection secrets and webhook endpoint signing secrets
 * (db/webhook-endpoint-secrets.ts): AES-256-GCM (node:crypto), a fresh 96-bit IV per message, the
 * row's id as associated data (a ciphertext copied onto another row does not open), and the id of
 * the key that sealed it stored beside the ciphertext so keys can rotate.
 *
 * Keys come from FAXFLOW_ENCRYPTION_KEY as `kid:base64key[,kid2:base64key2...]`: the first is the
 * current key (new ciphertexts), the others only open older ones until `faxflow connections
 * rotate-key` has re-encrypted everything. Without it, development set-ups get a generated key in
 * the data folder; production refuses to start.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KEY_FORMAT_HINT, parseEncryptionKeys, type EncryptionKey } from '../config/encryption-keys';

export { parseEncryptionKeys, type EncryptionKey } from '../config/encryption-keys';

export interface SealedSecret {
  /** base64(iv | tag | ciphertext) */
  ciphertext: string;
  keyId: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A ciphertext that cannot be opened: unknown key id, wrong key or altered bytes. Never carries a secret. */
export class TokenDecryptionError extends Error {
  override name = 'TokenDecryptionError';
  constructor(
    message: string,
    readonly keyId: string,
  ) {
    super(message);
  }
}

export class TokenCipher {
  private readonly byId: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;

  constructor(keys: readonly EncryptionKey[]) {
    const current = keys[0];
    if (!current) throw new Error('TokenCipher needs at least one key');
    this.currentKeyId = current.id;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  /** Encrypts under the current key; `context` (the connection id) must be given again to open it. */
  seal(plaintext: string, context: string): SealedSecret {
    const key = this.byId.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'),
      keyId: this.currentKeyId,
    };
  }

  open(sealed: SealedSecret, context: string): string {
    const key = this.byId.get(sealed.keyId);
    if (!key) {
      throw new TokenDecryptionError(
        `the secret of ${context} is encrypted with key "${sealed.keyId}", which FAXFLOW_ENCRYPTION_KEY ` +
          `does not hold (it has ${this.keyIds.map((k) => `"${k}"`).join(', ')}); add that key after the ` +
          `current one, run faxflow connections rotate-key, then remove it`,
        sealed.keyId,
      );
    }
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) {
      throw new TokenDecryptionError(`the secret of ${context} is truncated`, sealed.keyId);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new TokenDecryptionError(
        `the secret of ${context} does not decrypt with key "${sealed.keyId}": the ciphertext was altered, ` +
          `belongs to another row, or the key with that id is not the one that sealed it`,
        sealed.keyId,
      );
    }
  }

  /** Whether `sealed` is under an older key (rotate-key re-encrypts those). */
  isStale(sealed: SealedSecret): boolean {
    return sealed.keyId !== this.currentKeyId;
  }
}

export interface KeySettings {
  /** Parsed FAXFLOW_ENCRYPTION_KEY; undefined when not set. */
  encryptionKeys: readonly EncryptionKey[] | undefined;
  /** Production refuses to run without a configured key. */
  production: boolean;
  dataDir: string;
}

/** Raised when production runs without FAXFLOW_ENCRYPTION_KEY. */
export class MissingEncryptionKeyError extends Error {
  override name = 'MissingEncryptionKeyError';
}

export const DEV_KEY_FILE = 'encryption-key';

/**
 * The cipher for this process: the configured keys, or (outside production) the development key
 * in `<data dir>/encryption-key`, generated on first use and announced through `notice` (the
 * message names the file, never the key).
 */
export async function loadTokenCipher(
  settings: KeySettings,
  notice: (message: string, file: string) => void = () => undefined,
): Promise<TokenCipher> {
  if (settings.encryptionKeys && settings.encryptionKeys.length > 0) {
    return new TokenCipher(settings.encryptionKeys);
  }
  if (settings.production) {
    throw new MissingEncryptionKeyError(
      'FAXFLOW_ENCRYPTION_KEY is required in production (NODE_ENV=production): RingCentral tokens and ' +
        `webhook signing secrets are stored encrypted with it. Set it to ${KEY_FORMAT_HINT}.`,
    );
  }
  const file = path.resolve(settings.dataDir, DEV_KEY_FILE);
  const read = async () => new TokenCipher(parseEncryptionKeys((await readFile(file, 'utf8')).trim()));
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`The development encryption key in ${file} is unreadable: ${(err as Error).message}`);
    }
  }
  await mkdir(path.dirname(file), { recursive: true });
  const generated = `dev-${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`;
  try {
    // `wx`: when two processes start together, the first file wins and both use it.
    await writeFile(file, `${generated}\n`, { flag: 'wx', mode: 0o600 });
    notice(
      'No FAXFLOW_ENCRYPTION_KEY set: generated a development encryption key for RingCentral tokens ' +
        'and webhook secrets ' +
        '(set FAXFLOW_ENCRYPTION_KEY in production)',
      file,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return read();
}
