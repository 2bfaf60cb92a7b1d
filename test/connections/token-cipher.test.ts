import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import {
  DEV_KEY_FILE,
  loadTokenCipher,
  MissingEncryptionKeyError,
  parseEncryptionKeys,
  TokenCipher,
  TokenDecryptionError,
} from '../../src/connections/token-cipher';
import { tempDir } from '../support/database';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('token cipher (AES-256-GCM)', () => {
  it('round-trips a secret under the current key, with a fresh IV each time', () => {
    const cipher = new TokenCipher([key('k1')]);
    const a = cipher.seal('{"accessToken":"secret"}', 'conn-1');
    const b = cipher.seal('{"accessToken":"secret"}', 'conn-1');
    expect(a.keyId).toBe('k1');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.ciphertext).not.toContain('secret');
    expect(cipher.open(a, 'conn-1')).toBe('{"accessToken":"secret"}');
  });

  it('refuses a tampered ciphertext, another row, and a wrong key, with a clear error', () => {
    const k1 = key('k1');
    const cipher = new TokenCipher([k1]);
    const sealed = cipher.seal('top secret', 'conn-1');
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    raw[raw.length - 1]! ^= 0x01;
    const tampered = { ...sealed, ciphertext: raw.toString('base64') };
    expect(() => cipher.open(tampered, 'conn-1')).toThrow(TokenDecryptionError);
    expect(() => cipher.open(tampered, 'conn-1')).toThrow(/was altered/);
    // The associated data binds it to its row.
    expect(() => cipher.open(sealed, 'conn-2')).toThrow(/does not decrypt with key "k1"/);
    // Same key id, other bytes: a wrong key.
    expect(() => new TokenCipher([key('k1')]).open(sealed, 'conn-1')).toThrow(TokenDecryptionError);
    // A key id the keyring does not hold: says which and what to do.
    const err = (() => {
      try {
        new TokenCipher([key('k2')]).open(sealed, 'conn-1');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(TokenDecryptionError);
    expect(err?.message).toMatch(/encrypted with key "k1", which FAXFLOW_ENCRYPTION_KEY does not hold/);
    expect(err?.message).not.toContain('top secret');
  });

  it('opens old ciphertexts with an older key while sealing new ones under the first', () => {
    const k1 = key('k1');
    const old = new TokenCipher([k1]).seal('secret', 'c');
    const rotated = new TokenCipher([key('k2'), k1]);
    expect(rotated.open(old, 'c')).toBe('secret');
    expect(rotated.isStale(old)).toBe(true);
    const fresh = rotated.seal('secret', 'c');
    expect(fresh.keyId).toBe('k2');
    expect(rotated.isStale(fresh)).toBe(false);
  });
});

describe('FAXFLOW_ENCRYPTION_KEY', () => {
  const b64 = () => randomBytes(32).toString('base64');

  it('parses kid:base64 entries, the first being current', () => {
    const [a, b] = [b64(), b64()];
    const keys = parseEncryptionKeys(`new:${a}, old:${b}`);
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys[0]!.key.equals(Buffer.from(a, 'base64'))).toBe(true);
  });

  it('rejects malformed values with a sentence that never repeats the key', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => loadConfig({ FAXFLOW_ENCRYPTION_KEY: b64() })).toThrow(
      /FAXFLOW_ENCRYPTION_KEY entry 1 has no key id/,
    );
    expect(() => loadConfig({ FAXFLOW_ENCRYPTION_KEY: `k1:${short}` })).toThrow(
      /must be 32 bytes in base64.*got 16 bytes/,
    );
    expect(() => loadConfig({ FAXFLOW_ENCRYPTION_KEY: `k1:${short}` })).not.toThrow(short);
    const k = b64();
    expect(() => loadConfig({ FAXFLOW_ENCRYPTION_KEY: `k1:${k},k1:${k}` })).toThrow(/appears twice/);
    expect(() => loadConfig({ FAXFLOW_ENCRYPTION_KEY: `bad id:${k}` })).toThrow(/key id "bad id"/);
    expect(loadConfig({ FAXFLOW_ENCRYPTION_KEY: `k1:${k}` }).encryptionKeys?.[0]?.id).toBe('k1');
  });

  it('without a key, development generates one into the data folder once and says so (not the key)', async () => {
    const dataDir = await tempDir();
    const notices: string[] = [];
    const notice = (msg: string, file: string) => notices.push(`${msg} ${file}`);
    const first = await loadTokenCipher({ encryptionKeys: undefined, production: false, dataDir }, notice);
    const second = await loadTokenCipher({ encryptionKeys: undefined, production: false, dataDir }, notice);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/generated a development encryption key/);
    const file = path.join(dataDir, DEV_KEY_FILE);
    const content = (await readFile(file, 'utf8')).trim();
    expect(notices[0]).toContain(file);
    expect(notices[0]).not.toContain(content.split(':')[1]!);
    expect((await stat(file)).mode & 0o077).toBe(0);
    // Both processes use the same key.
    expect(second.open(first.seal('x', 'c'), 'c')).toBe('x');
  });

  it('production refuses to run without a key, saying what to set', async () => {
    const dataDir = await tempDir();
    const config = loadConfig({ NODE_ENV: 'production', FAXFLOW_DATA_DIR: dataDir });
    expect(config.production).toBe(true);
    const attempt = loadTokenCipher({ ...config, encryptionKeys: config.encryptionKeys });
    await expect(attempt).rejects.toBeInstanceOf(MissingEncryptionKeyError);
    await expect(attempt).rejects.toThrow(/FAXFLOW_ENCRYPTION_KEY is required in production/);
  });
});
