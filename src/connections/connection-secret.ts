/** What a connection keeps encrypted: its token set and, for JWT connections, the assertion. */
import type { ConnectionTokens } from '../ringcentral/connections';
import type { RingCentralConnectionRow } from '../db/schema';
import type { SealedTokens } from '../db/ringcentral-connections';
import type { TokenCipher } from './token-cipher';

export interface ConnectionSecret {
  /** Absent for a JWT connection that has not logged in yet. */
  tokens?: ConnectionTokens;
  jwt?: string;
}

/** The associated data that binds a ciphertext to its row. */
const contextOf = (connectionId: string) => `ringcentral-connection:${connectionId}`;

export function sealSecret(
  cipher: TokenCipher,
  connectionId: string,
  secret: ConnectionSecret,
): SealedTokens {
  const sealed = cipher.seal(JSON.stringify(secret), contextOf(connectionId));
  return {
    ...sealed,
    accessTokenExpiresAt: secret.tokens ? new Date(secret.tokens.accessTokenExpiresAt) : null,
  };
}

export function openSecret(
  cipher: TokenCipher,
  row: Pick<RingCentralConnectionRow, 'id' | 'token_ciphertext' | 'token_key_id'>,
): ConnectionSecret {
  const text = cipher.open({ ciphertext: row.token_ciphertext, keyId: row.token_key_id }, contextOf(row.id));
  return JSON.parse(text) as ConnectionSecret;
}

/** Re-seals a row's secret under the cipher's current key (same plaintext). */
export function resealSecret(
  cipher: TokenCipher,
  row: Pick<RingCentralConnectionRow, 'id' | 'token_ciphertext' | 'token_key_id'>,
): { ciphertext: string; keyId: string } {
  const plaintext = cipher.open(
    { ciphertext: row.token_ciphertext, keyId: row.token_key_id },
    contextOf(row.id),
  );
  return cipher.seal(plaintext, contextOf(row.id));
}

/** Every secret string in a connection secret (for redaction). */
export function secretStrings(secret: ConnectionSecret): string[] {
  return [secret.tokens?.accessToken, secret.tokens?.refreshToken, secret.jwt].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
