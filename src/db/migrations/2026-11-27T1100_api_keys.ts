import { sql, type Kysely } from 'kysely';

/**
 * The HTTP API v1: API keys per tenant (stored as SHA-256, shown once), idempotency keys per tenant
 * (kept in Postgres so that they outlive Temporal's retention), documents uploaded ahead of a fax,
 * and one row per fax submitted through v1 (its metadata, its broadcast, its workflow id), so that a
 * job can be read and listed the moment it is accepted, before its worker has registered it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('api_keys_tenant_idx')
    .on('api_keys')
    .columns(['tenant_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('response', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['tenant_id', 'key'])
    .execute();

  await db.schema
    .createTable('api_documents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('api_documents_tenant_idx')
    .on('api_documents')
    .columns(['tenant_id', 'id'])
    .execute();

  await db.schema
    .createTable('api_fax_submissions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('broadcast_id', 'text')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('recipient_name', 'text')
    .addColumn('documents', 'jsonb', (c) => c.notNull())
    .addColumn('send_at', 'timestamptz')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('api_fax_submissions_pk', ['tenant_id', 'job_id'])
    .execute();
  await db.schema
    .createIndex('api_fax_submissions_list_idx')
    .on('api_fax_submissions')
    .columns(['tenant_id', 'created_at', 'job_id'])
    .execute();
  await db.schema
    .createIndex('api_fax_submissions_broadcast_idx')
    .on('api_fax_submissions')
    .columns(['tenant_id', 'broadcast_id'])
    .execute();
  await sql`CREATE INDEX api_fax_submissions_metadata_idx ON api_fax_submissions USING gin (metadata)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('api_fax_submissions').execute();
  await db.schema.dropTable('api_documents').execute();
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('api_keys').execute();
}
