/**
 * `faxflow connections rotate-key` for webhook endpoint signing secrets: they are sealed with the
 * same key ring as connection tokens (db/webhook-endpoint-secrets.ts), so the same rotation must
 * re-encrypt them before the old key can go. Rows still in clear (from before migration
 * 2026-11-27T1700) are sealed on the way.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { resealWebhookSecrets, webhookEndpointsSealedWithOtherKeys } from '../db/webhook-endpoint-secrets';
import type { RotationResult } from './registry';
import { TokenDecryptionError, type TokenCipher } from './token-cipher';

export async function rotateWebhookSecretKeys(deps: {
  db: Kysely<Database>;
  cipher: TokenCipher;
}): Promise<RotationResult> {
  const result: RotationResult = { rotated: [], failed: [] };
  for (const id of await webhookEndpointsSealedWithOtherKeys(deps.db, deps.cipher.currentKeyId)) {
    try {
      if (await resealWebhookSecrets(deps.db, deps.cipher, id)) result.rotated.push(id);
    } catch (err) {
      if (!(err instanceof TokenDecryptionError)) throw err;
      result.failed.push({ id, reason: err.message });
    }
  }
  return result;
}
