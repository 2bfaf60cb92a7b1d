import { sql, type Kysely } from 'kysely';

/**
 * Webhook endpoint signing secrets encrypted at rest, like RingCentral tokens: AES-256-GCM under
 * FAXFLOW_ENCRYPTION_KEY (connections/token-cipher.ts), bound to the endpoint id, the key id beside
 * the ciphertext. One ciphertext holds the current secret and, during a rotation's overlap, the
 * previous one (db/webhook-endpoint-secrets.ts); `previous_secret_expires_at` stays in clear.
 *
 * Migrations run without the key (every `migrateToLatest` caller), so existing rows are not
 * encrypted here: each worker and API process seals the rows still in clear at start-up, a read
 * of one seals it on the spot, and `faxflow connections rotate-key` seals any left. Sealing a row
 * nulls its plaintext columns.
 *
 * `secret` and `previous_secret` are kept (nullable, null on every sealed row) for one release:
 * during a rolling deploy the previous release's API still inserts endpoints with `secret` in clear
 * (new processes seal them on start-up or first read). The next release drops both columns. Rolling
 * back past this migration is not supported once rows are sealed: the previous release cannot read
 * them (down() refuses then).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('webhook_endpoints')
    .addColumn('secret_ciphertext', 'text')
    .addColumn('secret_key_id', 'text')
    .execute();
  await sql`ALTER TABLE webhook_endpoints ALTER COLUMN secret DROP NOT NULL`.execute(db);
  await sql`ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_secret_sealed_with_key
      CHECK ((secret_ciphertext IS NULL) = (secret_key_id IS NULL)),
    ADD CONSTRAINT webhook_endpoints_has_secret
      CHECK (secret IS NOT NULL OR secret_ciphertext IS NOT NULL),
    ADD CONSTRAINT webhook_endpoints_sealed_has_no_plaintext
      CHECK (secret_ciphertext IS NULL OR (secret IS NULL AND previous_secret IS NULL))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{
    n: string;
  }>`SELECT count(*) AS n FROM webhook_endpoints WHERE secret_ciphertext IS NOT NULL`.execute(db);
  if (Number(rows[0]?.n ?? 0) > 0) {
    throw new Error(
      `${rows[0]?.n} webhook endpoint secret(s) are encrypted; the schema before 2026-11-27T1700 cannot hold them. ` +
        'Rotate those endpoints after rolling back, or stay on this release.',
    );
  }
  await sql`ALTER TABLE webhook_endpoints
    DROP CONSTRAINT webhook_endpoints_sealed_has_no_plaintext,
    DROP CONSTRAINT webhook_endpoints_has_secret,
    DROP CONSTRAINT webhook_endpoints_secret_sealed_with_key`.execute(db);
  await sql`ALTER TABLE webhook_endpoints ALTER COLUMN secret SET NOT NULL`.execute(db);
  await db.schema
    .alterTable('webhook_endpoints')
    .dropColumn('secret_key_id')
    .dropColumn('secret_ciphertext')
    .execute();
}
