import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey, Db } from './schema';

/** Every key starts with this, so that leaked keys are easy to find (secret scanners, logs). */
export const API_KEY_PREFIX = 'fxf_';

/** `fxf_` then 43 base64url characters (32 random bytes). */
export const API_KEY_PATTERN = /^fxf_[A-Za-z0-9_-]{43}$/;

/** How many characters of a key are kept in clear (for listings): `fxf_` and 8 more. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/** Last-used times are written at most this often per key (one write per request would be waste). */
export const LAST_USED_RESOLUTION_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface CreatedApiKey {
  id: string;
  tenantId: string;
  name: string | null;
  /** The key itself: shown once, never stored. */
  key: string;
  prefix: string;
  createdAt: Date;
}

/** Creates a key for a tenant; the clear key is only in the result. */
export async function createApiKey(
  db: Db,
  input: { tenantId: string; name?: string | null },
): Promise<CreatedApiKey> {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const id = `key_${randomBytes(8).toString('hex')}`;
  const prefix = key.slice(0, SHOWN_PREFIX_LENGTH);
  const row = await db
    .insertInto('api_keys')
    .values({ id, tenant_id: input.tenantId, prefix, hash: hashApiKey(key), name: input.name ?? null })
    .returning(['created_at'])
    .executeTakeFirstOrThrow();
  return { id, tenantId: input.tenantId, name: input.name ?? null, key, prefix, createdAt: row.created_at };
}

export type ApiKeyInfo = Omit<ApiKey, 'hash'>;

export async function listApiKeys(db: Db, tenantId?: string): Promise<ApiKeyInfo[]> {
  let q = db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'prefix', 'name', 'created_at', 'revoked_at', 'last_used_at']);
  if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
  return q.orderBy('created_at').orderBy('id').execute();
}

/** Revokes a key (for good); false when there is no such key or it was already revoked. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const r = await db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface ApiKeyOwner {
  apiKeyId: string;
  tenantId: string;
  revoked: boolean;
  tenantDisabled: boolean;
  lastUsedAt: Date | null;
}

/** The key's owner by the key's hash (the clear key never reaches the database). */
export async function findApiKeyByHash(db: Db, hash: string): Promise<ApiKeyOwner | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
    .select([
      'api_keys.id as id',
      'api_keys.tenant_id as tenant_id',
      'api_keys.revoked_at as revoked_at',
      'api_keys.last_used_at as last_used_at',
      'tenants.disabled_at as disabled_at',
    ])
    .where('api_keys.hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    apiKeyId: row.id,
    tenantId: row.tenant_id,
    revoked: row.revoked_at !== null,
    tenantDisabled: row.disabled_at !== null,
    lastUsedAt: row.last_used_at,
  };
}

/** Records a use, at most once per LAST_USED_RESOLUTION_MS per key. */
export async function touchApiKey(db: Db, id: string, now = new Date()): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', new Date(now.getTime() - LAST_USED_RESOLUTION_MS)),
      ]),
    )
    .execute();
}
