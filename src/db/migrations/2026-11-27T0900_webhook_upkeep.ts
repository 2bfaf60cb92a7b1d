import type { Kysely } from 'kysely';

/**
 * The health check asks for a subscription's latest notification: an index on
 * (subscription_id, received_at desc) answers it without scanning the table. Each subscription also
 * records the task queue of the fleet that owns its credential, so the API routes that credential's
 * reconciler to that fleet's workers and no other.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('webhook_notifications_subscription_received_idx')
    .on('webhook_notifications')
    .columns(['subscription_id', 'received_at desc'])
    .execute();
  await db.schema.alterTable('ringcentral_subscriptions').addColumn('task_queue', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ringcentral_subscriptions').dropColumn('task_queue').execute();
  await db.schema.dropIndex('webhook_notifications_subscription_received_idx').execute();
}
