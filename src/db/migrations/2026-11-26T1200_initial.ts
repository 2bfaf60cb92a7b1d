import { sql, type Kysely } from 'kysely';

// Migrations take Kysely<unknown>: they must not depend on today's table types, which will move on.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('fax_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('documents', 'jsonb', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('pages', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('send_at', 'timestamptz')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('fax_jobs_status_idx')
    .on('fax_jobs')
    .columns(['status', 'updated_at'])
    .execute();
  await db.schema.createIndex('fax_jobs_message_id_idx').on('fax_jobs').column('message_id').execute();

  await db.schema
    .createTable('fax_attempts')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('job_id', 'text', (c) => c.notNull().references('fax_jobs.id').onDelete('cascade'))
    .addColumn('attempt_no', 'integer', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fax_error_code', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addUniqueConstraint('fax_attempts_job_attempt_uq', ['job_id', 'attempt_no'])
    .execute();
  // One RingCentral fax belongs to one attempt: two executions can never both adopt it.
  await db.schema
    .createIndex('fax_attempts_message_id_uq')
    .on('fax_attempts')
    .column('message_id')
    .unique()
    .where(sql.ref('message_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('fax_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('job_id', 'text', (c) => c.notNull().references('fax_jobs.id').onDelete('cascade'))
    .addColumn('attempt_no', 'integer')
    .addColumn('message_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fax_error_code', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb')
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('fax_events_job_idx').on('fax_events').columns(['job_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('fax_events').execute();
  await db.schema.dropTable('fax_attempts').execute();
  await db.schema.dropTable('fax_jobs').execute();
}
