import { sql, type Kysely } from 'kysely';

/**
 * What faxflow learnt about each credential's account: whether RingCentral reports delivery
 * (Delivered / DeliveryFailed after Sent) or ends a successful fax at Sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ringcentral_delivery_reports')
    .addColumn('credential_key', 'text', (c) => c.primaryKey())
    .addColumn('first_status', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ringcentral_delivery_reports').execute();
}
