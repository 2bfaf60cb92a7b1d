/**
 * Webhook endpoint signing secrets at rest: sealed with the same key ring and format as RingCentral
 * tokens (AES-256-GCM, key id beside the ciphertext), bound to the endpoint id as associated data,
 * so a ciphertext copied onto another endpoint does not open. One ciphertext holds the current
 * secret and the previous one (kept during a rotation's overlap; its expiry stays in clear).
 *
 * Rows from before migration 2026-11-27T1700 hold the secrets in clear (`secret`,
 * `previous_secret`): `sealPlaintextWebhookSecrets` seals them at start-up and any read seals the
 * row it reads, nulling the plaintext.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Db, WebhookEndpoint } from './schema';

/**
 * What seals and opens: `TokenCipher` (connections/token-cipher.ts), named by its shape so that
 * this layer does not import the key handling. `open` throws when the key is gone or the bytes differ.
 */
export interface SecretCipher {
  readonly currentKeyId: string;
  seal(plaintext: string, context: string): { ciphertext: string; keyId: string };
  open(sealed: { ciphertext: string; keyId: string }, context: string): string;
}

export interface WebhookSecrets {
  current: string;
  /** The secret before the last rotation; signs only until `previous_secret_expires_at`. */
  previous: string | null;
}

export interface SealedWebhookSecrets {
  secret_ciphertext: string;
  secret_key_id: string;
}

type SecretColumns = Pick<
  WebhookEndpoint,
  'id' | 'secret' | 'previous_secret' | 'secret_ciphertext' | 'secret_key_id'
>;

const SECRET_COLUMNS = ['id', 'secret', 'previous_secret', 'secret_ciphertext', 'secret_key_id'] as const;

/** The associated data that binds a ciphertext to its endpoint. */
const contextOf = (endpointId: string) => `webhook-endpoint:${endpointId}`;

export function sealWebhookSecrets(
  cipher: SecretCipher,
  endpointId: string,
  secrets: WebhookSecrets,
): SealedWebhookSecrets {
  const sealed = cipher.seal(
    JSON.stringify({ current: secrets.current, previous: secrets.previous }),
    contextOf(endpointId),
  );
  return { secret_ciphertext: sealed.ciphertext, secret_key_id: sealed.keyId };
}

function openSealed(cipher: SecretCipher, id: string, sealed: SealedWebhookSecrets): WebhookSecrets {
  const text = cipher.open(
    { ciphertext: sealed.secret_ciphertext, keyId: sealed.secret_key_id },
    contextOf(id),
  );
  const parsed = JSON.parse(text) as { current: string; previous?: string | null };
  return { current: parsed.current, previous: parsed.previous ?? null };
}

const sealedOf = (row: SecretColumns): SealedWebhookSecrets | undefined =>
  row.secret_ciphertext !== null && row.secret_key_id !== null
    ? { secret_ciphertext: row.secret_ciphertext, secret_key_id: row.secret_key_id }
    : undefined;

/**
 * The endpoint's secrets. A row still in clear is sealed now, in place (one conditional UPDATE, so
 * it works inside a transaction too); when another process sealed or rotated it meanwhile, the row
 * is read again.
 */
export async function readWebhookSecrets(
  db: Db,
  cipher: SecretCipher,
  row: SecretColumns,
): Promise<{ secrets: WebhookSecrets; sealed: SealedWebhookSecrets }> {
  for (let current: SecretColumns | undefined = row, tries = 0; current && tries < 5; tries++) {
    const sealed = sealedOf(current);
    if (sealed) return { secrets: openSealed(cipher, current.id, sealed), sealed };
    if (current.secret === null) break; // excluded by a check constraint
    const secrets = { current: current.secret, previous: current.previous_secret };
    const fresh = sealWebhookSecrets(cipher, current.id, secrets);
    const updated = await db
      .updateTable('webhook_endpoints')
      .set({ ...fresh, secret: null, previous_secret: null })
      .where('id', '=', current.id)
      .where('secret_ciphertext', 'is', null)
      .where('secret', '=', current.secret)
      .where(sql<boolean>`previous_secret is not distinct from ${current.previous_secret}`)
      .returning('id')
      .executeTakeFirst();
    if (updated) return { secrets, sealed: fresh };
    current = await selectSecretColumns(db, current.id);
  }
  throw new Error(`webhook endpoint ${row.id} has no signing secret`);
}

function selectSecretColumns(db: Db, id: string): Promise<SecretColumns | undefined> {
  return db.selectFrom('webhook_endpoints').select(SECRET_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/**
 * The secret that signs now, to keep signing beside a new one during a rotation's overlap; null
 * when it cannot be opened (its key is gone): the rotation is then the way out, without overlap.
 */
export async function currentSecretIfReadable(
  db: Db,
  cipher: SecretCipher,
  row: SecretColumns,
): Promise<string | null> {
  const sealed = sealedOf(row);
  if (!sealed) return (await readWebhookSecrets(db, cipher, row)).secrets.current;
  try {
    return openSealed(cipher, row.id, sealed).current;
  } catch {
    return null;
  }
}

/** Seals every row still in clear (from before migration 2026-11-27T1700); returns how many. */
export async function sealPlaintextWebhookSecrets(db: Db, cipher: SecretCipher): Promise<number> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select(SECRET_COLUMNS)
    .where('secret_ciphertext', 'is', null)
    .orderBy('id')
    .execute();
  for (const row of rows) await readWebhookSecrets(db, cipher, row);
  return rows.length;
}

/** Ids of every endpoint (deleted ones too) in clear or sealed under a key other than `currentKeyId`. */
export async function webhookEndpointsSealedWithOtherKeys(db: Db, currentKeyId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select('id')
    .where((eb) => eb.or([eb('secret_key_id', 'is', null), eb('secret_key_id', '<>', currentKeyId)]))
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Re-seals one endpoint's secrets under the cipher's current key (same secrets); false when there
 * was nothing to do. Throws what `open` throws when the row's key is gone.
 */
export async function resealWebhookSecrets(
  db: Kysely<Database>,
  cipher: SecretCipher,
  id: string,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('webhook_endpoints')
      .select(SECRET_COLUMNS)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!row || row.secret_key_id === cipher.currentKeyId) return false;
    const { secrets, sealed } = await readWebhookSecrets(trx, cipher, row);
    if (sealed.secret_key_id === cipher.currentKeyId) return true; // was in clear: sealed just now
    await trx
      .updateTable('webhook_endpoints')
      .set(sealWebhookSecrets(cipher, id, secrets))
      .where('id', '=', id)
      .execute();
    return true;
  });
}

/** The secrets a delivery is signed with now: the current one, and the previous one during its overlap. */
export function signingSecrets(
  endpoint: Pick<WebhookEndpoint, 'previous_secret_expires_at'>,
  secrets: WebhookSecrets,
  now = new Date(),
): string[] {
  const expires = endpoint.previous_secret_expires_at;
  return secrets.previous !== null && expires && expires > now
    ? [secrets.current, secrets.previous]
    : [secrets.current];
}
