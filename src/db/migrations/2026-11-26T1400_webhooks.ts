import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // RingCentral webhook subscriptions we created, one live one per credential.
  await db.schema
    .createTable('ringcentral_subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('credential_key', 'text', (c) => c.notNull())
    .addColumn('verification_token', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('ringcentral_subscriptions_credential_idx')
    .on('ringcentral_subscriptions')
    .columns(['credential_key', 'status'])
    .execute();

  // Every authenticated notification, written before the receiver answers 200.
  await db.schema
    .createTable('webhook_notifications')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('uuid', 'text')
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('processed_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('webhook_notifications_unprocessed_idx')
    .on('webhook_notifications')
    .column('id')
    .where(sql.ref('processed_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_notifications').execute();
  await db.schema.dropTable('ringcentral_subscriptions').execute();
}
