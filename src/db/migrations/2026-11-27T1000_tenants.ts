import { sql, type Kysely } from 'kysely';

/**
 * The customers faxflow sends for. Every job, connection and API key belongs to one tenant; the
 * `default` tenant owns the environment's single RingCentral credential and every job from before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('default_region', 'text')
    .addColumn('default_cover', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('disabled_at', 'timestamptz')
    .execute();
  await sql`INSERT INTO tenants (id, name) VALUES ('default', 'Default tenant') ON CONFLICT DO NOTHING`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('tenants').execute();
}
