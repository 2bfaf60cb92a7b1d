import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { TokenCipher, TokenDecryptionError } from '../../src/connections/token-cipher';
import { migrateTo, migrateToLatest } from '../../src/db/migrate';
import type { Database } from '../../src/db/schema';
import {
  readWebhookSecrets,
  sealPlaintextWebhookSecrets,
  signingSecrets,
} from '../../src/db/webhook-endpoint-secrets';
import { insertWebhookEndpoint, rotateWebhookSecret } from '../../src/db/webhook-endpoints';
import { freshDatabases } from '../support/fresh-databases';

/**
 * Migration 2026-11-27T1700: endpoints stored with their signing secrets in clear are sealed at
 * start-up or on their first read, and keep signing with the same secrets. A database of our own:
 * these tests start from the schema before the migration.
 */
const databases = freshDatabases('whs');
async function freshDatabase(): Promise<Kysely<Database>> {
  return (await databases.fresh()).db;
}

const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Endpoints as the release before the migration wrote them: secrets in clear. */
async function legacyEndpoints(db: Kysely<Database>, n: number) {
  await sql`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')`.execute(db);
  const rows = Array.from({ length: n }, (_, i) => ({
    id: `we_${i.toString().padStart(24, '0')}`,
    current: secret(),
    // The first one mid-rotation: its previous secret still signs.
    previous: i === 0 ? secret() : null,
  }));
  for (const r of rows) {
    await sql`INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret, previous_secret, previous_secret_expires_at)
      VALUES (${r.id}, 'acme', 'https://h.example.com/', ${sql`ARRAY['fax.sent']`}, ${r.current}, ${r.previous},
        ${r.previous ? new Date(Date.now() + 3_600_000) : null})`.execute(db);
  }
  return rows;
}

async function rowText(db: Kysely<Database>, id: string): Promise<string> {
  const { rows } = await sql<{
    row: string;
  }>`SELECT to_jsonb(w)::text AS row FROM webhook_endpoints w WHERE id = ${id}`.execute(db);
  return rows[0]!.row;
}

const find = (db: Kysely<Database>, id: string) =>
  db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('migration 2026-11-27T1700: webhook secrets at rest', () => {
  it('keeps rows in clear readable; the first read seals one in place with the same secrets', async () => {
    const db = await freshDatabase();
    await migrateTo(db, '2026-11-27T1600_send_claim_function');
    const [first] = await legacyEndpoints(db, 1);
    expect(await migrateToLatest(db)).toContain('2026-11-27T1700_webhook_secrets_at_rest');

    const before = await find(db, first!.id);
    expect(before).toMatchObject({ secret: first!.current, secret_ciphertext: null });
    const read = await readWebhookSecrets(db, cipher, before);
    expect(read.secrets).toEqual({ current: first!.current, previous: first!.previous });
    expect(signingSecrets(before, read.secrets)).toEqual([first!.current, first!.previous]);

    const after = await find(db, first!.id);
    expect(after).toMatchObject({ secret: null, previous_secret: null, secret_key_id: 'k1' });
    const text = await rowText(db, first!.id);
    for (const s of [first!.current, first!.previous!]) expect(text).not.toContain(s.slice(6, 22));
    // Read again: the sealed row, same secrets (no second seal).
    expect((await readWebhookSecrets(db, cipher, after)).secrets).toEqual(read.secrets);
    expect((await find(db, first!.id)).secret_ciphertext).toBe(after.secret_ciphertext);

    // Sealed rows cannot go back to the schema that holds only clear text.
    await expect(migrateTo(db, '2026-11-27T1600_send_claim_function')).rejects.toThrow(/are encrypted/);
  });

  it('seals every row in clear at once (start-up), and refuses a ciphertext moved to another endpoint', async () => {
    const db = await freshDatabase();
    await migrateTo(db, '2026-11-27T1600_send_claim_function');
    const rows = await legacyEndpoints(db, 3);
    await migrateToLatest(db);

    expect(await sealPlaintextWebhookSecrets(db, cipher)).toBe(3);
    expect(await sealPlaintextWebhookSecrets(db, cipher)).toBe(0);
    for (const r of rows) {
      const row = await find(db, r.id);
      expect(row).toMatchObject({ secret: null, previous_secret: null, secret_key_id: 'k1' });
      expect((await readWebhookSecrets(db, cipher, row)).secrets).toEqual({
        current: r.current,
        previous: r.previous,
      });
      expect(await rowText(db, r.id)).not.toContain(r.current.slice(6, 22));
    }
    // The endpoint id is the associated data: another row's ciphertext does not open here.
    const [a, b] = [await find(db, rows[0]!.id), await find(db, rows[1]!.id)];
    await expect(
      readWebhookSecrets(db, cipher, { ...b, secret_ciphertext: a.secret_ciphertext }),
    ).rejects.toThrow(TokenDecryptionError);
    // Neither a row without any secret (a check constraint), nor one with both.
    await expect(
      sql`UPDATE webhook_endpoints SET secret_ciphertext = NULL, secret_key_id = NULL WHERE id = ${a.id}`.execute(
        db,
      ),
    ).rejects.toThrow(/webhook_endpoints_has_secret/);
    await expect(
      sql`UPDATE webhook_endpoints SET secret = 'whsec_x' WHERE id = ${a.id}`.execute(db),
    ).rejects.toThrow(/webhook_endpoints_sealed_has_no_plaintext/);
  });

  it('rotates a row in clear (its secret becomes the previous one) and one whose key is gone (no overlap)', async () => {
    const db = await freshDatabase();
    await migrateTo(db, '2026-11-27T1600_send_claim_function');
    const [legacy] = await legacyEndpoints(db, 2);
    await migrateToLatest(db);

    const fresh = secret();
    const rotated = await rotateWebhookSecret(db, cipher, 'acme', legacy!.id, fresh);
    expect(rotated).toMatchObject({ secret: null, previous_secret: null, secret_key_id: 'k1' });
    expect((await readWebhookSecrets(db, cipher, rotated!)).secrets).toEqual({
      current: fresh,
      previous: legacy!.current,
    });
    expect(signingSecrets(rotated!, { current: fresh, previous: legacy!.current })).toHaveLength(2);

    // Sealed under a key this process no longer holds: it cannot sign, and rotating is the way out.
    const lost = new TokenCipher([{ id: 'gone', key: randomBytes(32) }]);
    const orphan = await insertWebhookEndpoint(db, lost, {
      id: `we_${'f'.repeat(24)}`,
      tenantId: 'acme',
      url: 'https://h.example.com/',
      events: ['fax.sent'],
      secret: secret(),
    });
    await expect(readWebhookSecrets(db, cipher, orphan)).rejects.toThrow(TokenDecryptionError);
    const recovered = await rotateWebhookSecret(db, cipher, 'acme', orphan.id, fresh);
    expect(recovered).toMatchObject({ secret_key_id: 'k1', previous_secret_expires_at: null });
    expect((await readWebhookSecrets(db, cipher, recovered!)).secrets).toEqual({
      current: fresh,
      previous: null,
    });
  });
});
