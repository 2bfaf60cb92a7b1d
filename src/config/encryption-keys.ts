/** FAXFLOW_ENCRYPTION_KEY: the keys that encrypt connection tokens at rest (see connections/token-cipher.ts). */

export interface EncryptionKey {
  /** Short name stored beside each ciphertext. */
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,40}$/;

export const KEY_FORMAT_HINT =
  'kid:base64key[,kid2:base64key2] where each key is 32 random bytes in base64 ' +
  '(e.g. "k1:$(openssl rand -base64 32)"); the first key encrypts, the others only decrypt';

/** Parses FAXFLOW_ENCRYPTION_KEY; throws an Error whose message says what is wrong (never the key). */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  for (const [i, part] of value.split(',').entries()) {
    const entry = part.trim();
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`entry ${i + 1} has no key id; the format is ${KEY_FORMAT_HINT}`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) {
      throw new Error(`key id "${id}" may only use letters, digits, ".", "_" and "-" (at most 40)`);
    }
    if (keys.some((k) => k.id === id)) throw new Error(`key id "${id}" appears twice`);
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/_-]+=*$/.test(encoded) || key.length !== 32) {
      throw new Error(
        `key "${id}" must be 32 bytes in base64 (44 characters), got ${key.length} bytes; the format is ${KEY_FORMAT_HINT}`,
      );
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) throw new Error(`has no key; the format is ${KEY_FORMAT_HINT}`);
  return keys;
}
