import type { Db, Tenant } from './schema';

// Defined in domain/ so contracts (workflow ids) and the client can use them without the database.
export { DEFAULT_TENANT_ID, TENANT_ID_PATTERN } from '../domain/tenant-id';

export interface NewTenantInput {
  id: string;
  name: string;
  defaultRegion?: string | null;
  defaultCover?: Record<string, unknown> | null;
}

/** Creates a tenant; false when the id is taken. */
export async function createTenant(db: Db, input: NewTenantInput): Promise<boolean> {
  const row = await db
    .insertInto('tenants')
    .values({
      id: input.id,
      name: input.name,
      default_region: input.defaultRegion ?? null,
      default_cover: input.defaultCover ? JSON.stringify(input.defaultCover) : null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function findTenant(db: Db, id: string): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  return db.selectFrom('tenants').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function disableTenant(db: Db, id: string): Promise<boolean> {
  const r = await db
    .updateTable('tenants')
    .set({ disabled_at: new Date() })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
