import { sql } from 'kysely';
import { NoConnectionError } from '../domain/no-connection';
import { DEFAULT_TENANT_ID } from '../domain/tenant-id';
import type { Db } from './schema';

/**
 * Which RingCentral connection sends a tenant's job. The only reader of `ringcentral_connections`
 * on the job side (the table and its writers belong to the connection store, src/connections); it
 * reads the columns the store's contract names: id, tenant_id, status, created_at.
 */

export { NoConnectionError };

export interface JobConnectionRow {
  id: string;
  status: string;
}

/** The tenant's connections, oldest first; none while the store's table does not exist yet. */
export async function listTenantConnections(db: Db, tenantId: string): Promise<JobConnectionRow[]> {
  try {
    const { rows } = await sql<JobConnectionRow>`
      select id, status from ringcentral_connections
      where tenant_id = ${tenantId} order by created_at, id`.execute(db);
    return rows;
  } catch (err) {
    // 42P01: undefined_table (a database migrated before the connection store existed).
    if ((err as { code?: string }).code === '42P01') return [];
    throw err;
  }
}

export interface ResolveJobConnectionOptions {
  /**
   * The environment's credential is the default tenant's connection without a row of its own: its
   * id (credentialKey(target)) is used when the default tenant has no stored connection.
   */
  defaultConnectionId?: string;
}

/**
 * The connection that sends a new job of `tenantId`: the requested one, if it is the tenant's;
 * otherwise the tenant's only active one. A connection that needs reconnecting is still chosen
 * when asked for by id, or when it is the tenant's only one: its jobs then wait for the tenant
 * to reconnect (`WaitingForConnection`) instead of being refused.
 */
export async function resolveJobConnection(
  db: Db,
  tenantId: string,
  requested: string | undefined,
  opts: ResolveJobConnectionOptions = {},
): Promise<string> {
  const rows = (await listTenantConnections(db, tenantId)).filter((r) => r.status !== 'revoked');
  const envDefault = tenantId === DEFAULT_TENANT_ID ? opts.defaultConnectionId : undefined;
  if (requested !== undefined) {
    if (rows.some((r) => r.id === requested) || requested === envDefault) return requested;
    throw new NoConnectionError(
      tenantId,
      `The RingCentral connection ${JSON.stringify(requested)} is not one of tenant ${tenantId}'s; omit connectionId to use the tenant's only active connection.`,
    );
  }
  const active = rows.filter((r) => r.status === 'active');
  if (active.length === 1) return active[0]!.id;
  if (active.length > 1) {
    throw new NoConnectionError(
      tenantId,
      `Tenant ${tenantId} has ${active.length} active RingCentral connections; say which one sends this fax with connectionId.`,
    );
  }
  if (rows.length === 1) return rows[0]!.id;
  if (envDefault !== undefined && rows.length === 0) return envDefault;
  throw new NoConnectionError(
    tenantId,
    rows.length === 0
      ? `Tenant ${tenantId} has no RingCentral connection; connect one (faxflow connections add-jwt, or the connect link) before sending.`
      : `Tenant ${tenantId} has no active RingCentral connection; reconnect one or say which one to use with connectionId.`,
  );
}
