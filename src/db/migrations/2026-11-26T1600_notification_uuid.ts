import { sql, type Kysely } from 'kysely';

/** RingCentral redelivers: one row per notification uuid and subscription is enough. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('webhook_notifications_uuid_uq')
    .on('webhook_notifications')
    .columns(['subscription_id', 'uuid'])
    .unique()
    .where(sql.ref('uuid'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('webhook_notifications_uuid_uq').execute();
}
