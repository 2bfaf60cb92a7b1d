import type { Kysely } from 'kysely';

/** Which RingCentral credential sends a job: reconciling one credential's webhooks touches only its jobs. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('fax_jobs').addColumn('credential_key', 'text').execute();
  await db.schema
    .createIndex('fax_jobs_credential_open_idx')
    .on('fax_jobs')
    .columns(['credential_key', 'completed_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('fax_jobs').dropColumn('credential_key').execute();
}
