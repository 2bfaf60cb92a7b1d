import { sql, type Kysely } from 'kysely';

/**
 * Jobs belong to a tenant and are sent through one of its RingCentral connections (issue 11).
 *
 * - A job's identity is (tenant_id, job_key): two tenants may use the same idempotency key. The row
 *   id becomes the job's workflow id (`fax-<tenant>-<key>`, or `fax-<key>` for jobs from before),
 *   unique across tenants; attempts and events follow the renamed ids (ON UPDATE CASCADE).
 * - `connection_id` names the connection that sends the job (the role `credential_key` had: the
 *   old values are the default connection's id, so they are copied). `credential_key` stays, read
 *   by nothing, so a rollback of the code still finds it.
 * - No foreign key to `ringcentral_connections`: that table is another migration's, and a job
 *   keeps its record after a connection is deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('fax_jobs')
    .addColumn('job_key', 'text')
    .addColumn('connection_id', 'text')
    .execute();
  await sql`UPDATE fax_jobs SET job_key = id, connection_id = credential_key,
    tenant_id = coalesce(tenant_id, 'default')`.execute(db);

  for (const table of ['fax_attempts', 'fax_events']) {
    await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT IF EXISTS ${sql.id(`${table}_job_id_fkey`)}`.execute(
      db,
    );
    await sql`ALTER TABLE ${sql.table(table)} ADD CONSTRAINT ${sql.id(`${table}_job_id_fkey`)}
      FOREIGN KEY (job_id) REFERENCES fax_jobs(id) ON DELETE CASCADE ON UPDATE CASCADE`.execute(db);
  }
  // Two steps: a row's new id may be another row's old id (key `fax-x` next to key `x`). '#' is
  // in no job key and no workflow id we make, so the first step collides with nothing.
  await sql`UPDATE fax_jobs SET id = '#' || workflow_id WHERE id <> workflow_id`.execute(db);
  await sql`UPDATE fax_jobs SET id = substr(id, 2) WHERE id LIKE '#%'`.execute(db);

  await sql`ALTER TABLE fax_jobs ALTER COLUMN job_key SET NOT NULL`.execute(db);
  await sql`ALTER TABLE fax_jobs ALTER COLUMN tenant_id SET DEFAULT 'default'`.execute(db);
  await sql`ALTER TABLE fax_jobs ALTER COLUMN tenant_id SET NOT NULL`.execute(db);
  await db.schema
    .createIndex('fax_jobs_tenant_key_uq')
    .on('fax_jobs')
    .columns(['tenant_id', 'job_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('fax_jobs_connection_open_idx')
    .on('fax_jobs')
    .columns(['connection_id', 'completed_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('fax_jobs_connection_open_idx').execute();
  await db.schema.dropIndex('fax_jobs_tenant_key_uq').execute();
  await sql`ALTER TABLE fax_jobs ALTER COLUMN tenant_id DROP NOT NULL`.execute(db);
  await sql`ALTER TABLE fax_jobs ALTER COLUMN tenant_id DROP DEFAULT`.execute(db);
  await sql`UPDATE fax_jobs SET credential_key = coalesce(credential_key, connection_id)`.execute(db);
  await sql`UPDATE fax_jobs SET id = '#' || job_key WHERE id <> job_key`.execute(db);
  await sql`UPDATE fax_jobs SET id = substr(id, 2) WHERE id LIKE '#%'`.execute(db);
  await db.schema.alterTable('fax_jobs').dropColumn('connection_id').dropColumn('job_key').execute();
}
