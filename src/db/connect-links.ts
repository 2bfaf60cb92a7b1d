/**
 * One-time connect links and PKCE authorization states (the Auth Code + PKCE connect flow, issue 11).
 * Only sha256 hashes of the link token and of the state id are stored; the code verifier arrives
 * already encrypted (the API plugin owns the key) and is handed back as stored.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ConnectState, Db } from './schema';
import { findTenant } from './tenants';

/** A connect link lasts 15 minutes and works once. */
export const CONNECT_LINK_TTL_MS = 15 * 60_000;
/** An authorization state (the time a user has to log in to RingCentral and approve). */
export const CONNECT_STATE_TTL_MS = 15 * 60_000;

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Why a link or state cannot be used. */
export type Refusal = 'unknown' | 'used' | 'expired';

export class UnknownTenantError extends Error {
  override readonly name = 'UnknownTenantError';
  constructor(readonly tenantId: string) {
    super(`There is no tenant "${tenantId}" (faxflow tenants list shows them).`);
  }
}

export class DisabledTenantError extends Error {
  override readonly name = 'DisabledTenantError';
  constructor(readonly tenantId: string) {
    super(`Tenant "${tenantId}" is disabled: it cannot connect a RingCentral account.`);
  }
}

/**
 * Issues a one-time link that lets whoever opens it connect a RingCentral user to the tenant:
 * `<publicUrl>/connect/ringcentral?tenant=...&token=...`, valid for 15 minutes. The token is only in
 * the returned URL: hand it to the tenant, never log it.
 */
export async function issueConnectLink(
  db: Db,
  tenantId: string,
  publicUrl: string,
  opts: { now?: Date; ttlMs?: number } = {},
): Promise<string> {
  const tenant = await findTenant(db, tenantId);
  if (!tenant) throw new UnknownTenantError(tenantId);
  if (tenant.disabled_at !== null) throw new DisabledTenantError(tenantId);
  const token = randomBytes(32).toString('base64url');
  const now = opts.now ?? new Date();
  await db
    .insertInto('connect_links')
    .values({
      id: randomUUID(),
      tenant_id: tenantId,
      token_hash: sha256Hex(token),
      created_at: now,
      expires_at: new Date(now.getTime() + (opts.ttlMs ?? CONNECT_LINK_TTL_MS)),
    })
    .execute();
  const url = new URL(`${publicUrl.replace(/\/+$/, '')}/connect/ringcentral`);
  url.searchParams.set('tenant', tenantId);
  url.searchParams.set('token', token);
  return url.toString();
}

/**
 * Marks the tenant's link with this token used, if it exists, is unused and unexpired. A link of
 * another tenant counts as unknown. Exactly one of two concurrent callers gets `ok`.
 */
export async function consumeConnectLink(
  db: Db,
  tenantId: string,
  token: string,
  now: Date = new Date(),
): Promise<{ ok: true; linkId: string } | { ok: false; why: Refusal; expiredAt?: Date }> {
  const hash = sha256Hex(token);
  const taken = await db
    .updateTable('connect_links')
    .set({ used_at: now })
    .where('token_hash', '=', hash)
    .where('tenant_id', '=', tenantId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('id')
    .executeTakeFirst();
  if (taken) return { ok: true, linkId: taken.id };
  const row = await db
    .selectFrom('connect_links')
    .select(['used_at', 'expires_at'])
    .where('token_hash', '=', hash)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (!row) return { ok: false, why: 'unknown' };
  if (row.used_at !== null) return { ok: false, why: 'used' };
  return { ok: false, why: 'expired', expiredAt: row.expires_at };
}

export interface NewConnectState {
  /** the state id as sent to RingCentral (hashed here before it is stored) */
  stateId: string;
  tenantId: string;
  linkId: string | null;
  /** the PKCE code verifier, already encrypted by the caller */
  codeVerifierEnc: string;
  redirectUri: string;
  now?: Date;
  ttlMs?: number;
}

export async function createConnectState(db: Db, s: NewConnectState): Promise<void> {
  const now = s.now ?? new Date();
  await db
    .insertInto('connect_states')
    .values({
      state_hash: sha256Hex(s.stateId),
      tenant_id: s.tenantId,
      link_id: s.linkId,
      code_verifier_enc: s.codeVerifierEnc,
      redirect_uri: s.redirectUri,
      created_at: now,
      expires_at: new Date(now.getTime() + (s.ttlMs ?? CONNECT_STATE_TTL_MS)),
    })
    .execute();
}

/** Marks the state used and returns it, if it exists, is unused and unexpired (single use). */
export async function consumeConnectState(
  db: Db,
  stateId: string,
  now: Date = new Date(),
): Promise<{ ok: true; state: ConnectState } | { ok: false; why: Refusal; tenantId?: string }> {
  const hash = sha256Hex(stateId);
  const taken = await db
    .updateTable('connect_states')
    .set({ used_at: now })
    .where('state_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (taken) return { ok: true, state: taken };
  const row = await db
    .selectFrom('connect_states')
    .select(['used_at', 'tenant_id'])
    .where('state_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return { ok: false, why: 'unknown' };
  return { ok: false, why: row.used_at !== null ? 'used' : 'expired', tenantId: row.tenant_id };
}

/** Deletes links and states that expired before `before` (housekeeping; they are useless after). */
export async function pruneConnectLinks(db: Db, before: Date): Promise<number> {
  const states = await db.deleteFrom('connect_states').where('expires_at', '<', before).executeTakeFirst();
  const links = await db.deleteFrom('connect_links').where('expires_at', '<', before).executeTakeFirst();
  return Number(states.numDeletedRows) + Number(links.numDeletedRows);
}
