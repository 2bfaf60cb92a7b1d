import type { Kysely } from 'kysely';

/**
 * The workflow run (first execution) that created a job row. A job id can come back in a later run
 * (a legacy broadcast child `<key>.<n>` equal to a single fax's key): that run must not take over
 * the finished row, its message or its outcome.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('fax_jobs').addColumn('workflow_run_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('fax_jobs').dropColumn('workflow_run_id').execute();
}
