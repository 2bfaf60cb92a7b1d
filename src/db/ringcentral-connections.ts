import { sql } from 'kysely';
import type { ConnectionKind, ConnectionStatus } from '../ringcentral/connections';
import type { Db, RingCentralConnectionRow } from './schema';

/** A connection as people may see it: everything but the sealed secret. */
export type ConnectionSummary = Omit<RingCentralConnectionRow, 'token_ciphertext'>;

export interface NewConnectionRow {
  id: string;
  tenantId: string;
  kind: ConnectionKind;
  serverUrl: string;
  clientId: string;
  accountId: string | null;
  extensionId: string | null;
  label: string;
  ciphertext: string;
  keyId: string;
  accessTokenExpiresAt: Date | null;
  /** Set when the row holds a token set (not only a JWT waiting for its first login). */
  connectedAt: Date | null;
}

export interface SealedTokens {
  ciphertext: string;
  keyId: string;
  accessTokenExpiresAt: Date | null;
}

/** Serialises everything that changes one connection's secret (refresh, login, reconnect, rotation). */
export async function lockConnection(trx: Db, id: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`ringcentral-connection:${id}`}))`.execute(trx);
}

/** Serialises connects of one tenant's RingCentral user (two callbacks at once make one connection). */
export async function lockConnectionUser(
  trx: Db,
  user: { tenantId: string; serverUrl: string; accountId: string; extensionId: string },
): Promise<void> {
  const key = `ringcentral-user:${user.tenantId}|${user.serverUrl}|${user.accountId}|${user.extensionId}`;
  await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
}

/** Inserts a connection; false when the id exists already. */
export async function insertConnection(db: Db, row: NewConnectionRow): Promise<boolean> {
  const inserted = await db
    .insertInto('ringcentral_connections')
    .values({
      id: row.id,
      tenant_id: row.tenantId,
      kind: row.kind,
      server_url: row.serverUrl,
      client_id: row.clientId,
      account_id: row.accountId,
      extension_id: row.extensionId,
      label: row.label,
      token_ciphertext: row.ciphertext,
      token_key_id: row.keyId,
      access_token_expires_at: row.accessTokenExpiresAt,
      connected_at: row.connectedAt,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findConnection(db: Db, id: string): Promise<RingCentralConnectionRow | undefined> {
  return db.selectFrom('ringcentral_connections').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The tenant's live (not revoked) connection of one RingCentral user, if any. */
export async function findLiveConnectionOfUser(
  db: Db,
  user: { tenantId: string; serverUrl: string; accountId: string; extensionId: string },
): Promise<RingCentralConnectionRow | undefined> {
  return db
    .selectFrom('ringcentral_connections')
    .selectAll()
    .where('tenant_id', '=', user.tenantId)
    .where('server_url', '=', user.serverUrl)
    .where('account_id', '=', user.accountId)
    .where('extension_id', '=', user.extensionId)
    .where('status', '<>', 'revoked')
    .executeTakeFirst();
}

const SUMMARY_COLUMNS = [
  'id',
  'tenant_id',
  'kind',
  'server_url',
  'client_id',
  'account_id',
  'extension_id',
  'label',
  'status',
  'status_reason',
  'token_key_id',
  'token_version',
  'access_token_expires_at',
  'created_at',
  'updated_at',
  'connected_at',
] as const;

export async function listConnections(
  db: Db,
  filter: { tenantId?: string } = {},
): Promise<ConnectionSummary[]> {
  let q = db.selectFrom('ringcentral_connections').select(SUMMARY_COLUMNS);
  if (filter.tenantId !== undefined) q = q.where('tenant_id', '=', filter.tenantId);
  return q.orderBy('tenant_id').orderBy('created_at').orderBy('id').execute();
}

/** Ids of every connection whose secret is sealed under a key other than `currentKeyId`. */
export async function connectionsSealedWithOtherKeys(db: Db, currentKeyId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('ringcentral_connections')
    .select('id')
    .where('token_key_id', '<>', currentKeyId)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Stores a new token set: token version + 1. `reconnect` also makes the connection active again
 * (a login or connect that just worked). Returns the new version.
 */
export async function storeConnectionTokens(
  db: Db,
  id: string,
  sealed: SealedTokens,
  opts: { reconnect?: boolean } = {},
): Promise<number> {
  let q = db.updateTable('ringcentral_connections').set((eb) => ({
    token_ciphertext: sealed.ciphertext,
    token_key_id: sealed.keyId,
    access_token_expires_at: sealed.accessTokenExpiresAt,
    token_version: eb('token_version', '+', 1),
    updated_at: sql<Date>`now()`,
  }));
  if (opts.reconnect) {
    q = q.set({ status: 'active', status_reason: null, connected_at: sql<Date>`now()` });
  }
  const row = await q.where('id', '=', id).returning('token_version').executeTakeFirstOrThrow();
  return row.token_version;
}

/** Re-seals the same secret under another key: the token version stays (the tokens did not change). */
export async function resealConnection(
  db: Db,
  id: string,
  sealed: { ciphertext: string; keyId: string },
): Promise<void> {
  await db
    .updateTable('ringcentral_connections')
    .set({ token_ciphertext: sealed.ciphertext, token_key_id: sealed.keyId, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

export async function setConnectionStatus(
  db: Db,
  id: string,
  status: ConnectionStatus,
  reason: string | null,
): Promise<void> {
  await db
    .updateTable('ringcentral_connections')
    .set({ status, status_reason: reason, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

/** Records who a connection is (learned at its first login). */
export async function setConnectionIdentity(
  db: Db,
  id: string,
  identity: { accountId: string; extensionId: string; label: string },
): Promise<void> {
  await db
    .updateTable('ringcentral_connections')
    .set({
      account_id: identity.accountId,
      extension_id: identity.extensionId,
      label: identity.label,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

/** Updates a connection in place with a new connect (same id): kind, label, client and secret. */
export async function reconnectConnection(
  db: Db,
  id: string,
  update: { kind: ConnectionKind; clientId: string; label: string } & SealedTokens,
): Promise<number> {
  await db
    .updateTable('ringcentral_connections')
    .set({ kind: update.kind, client_id: update.clientId, label: update.label })
    .where('id', '=', id)
    .execute();
  return storeConnectionTokens(db, id, update, { reconnect: true });
}
