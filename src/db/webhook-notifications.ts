import { sql } from 'kysely';
import type { Db } from './schema';

/**
 * Stores a notification; `undefined` when the same subscription already delivered this uuid
 * (RingCentral redelivers), so a redelivery is acknowledged and processed once.
 */
export async function insertWebhookNotification(
  db: Db,
  n: { subscriptionId: string; uuid: string; body: unknown },
): Promise<number | undefined> {
  const row = await db
    .insertInto('webhook_notifications')
    .values({ subscription_id: n.subscriptionId, uuid: n.uuid, body: JSON.stringify(n.body) })
    .onConflict((oc) => oc.columns(['subscription_id', 'uuid']).where('uuid', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/** The highest notification id stored so far (0 when there is none). */
export async function lastWebhookNotificationId(db: Db): Promise<number> {
  const row = await db
    .selectFrom('webhook_notifications')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return row?.max == null ? 0 : Number(row.max);
}

/**
 * Unprocessed notifications after `afterId` (and up to `upToId`), oldest first, with their
 * subscription's credential (`null` when the subscription row no longer exists).
 */
export async function listUnprocessedWebhookNotifications(
  db: Db,
  page: {
    afterId: number;
    upToId?: number;
    limit: number;
    /** Only rows received at least this long ago (by the database's clock): younger ones are in hand. */
    receivedBeforeMs?: number;
  },
) {
  let query = db
    .selectFrom('webhook_notifications as n')
    .leftJoin('ringcentral_subscriptions as s', 's.id', 'n.subscription_id')
    .select(['n.id', 'n.subscription_id', 'n.body', 's.credential_key', 's.task_queue'])
    .where('n.processed_at', 'is', null)
    .where('n.id', '>', page.afterId)
    .orderBy('n.id')
    .limit(page.limit);
  if (page.upToId !== undefined) query = query.where('n.id', '<=', page.upToId);
  if (page.receivedBeforeMs !== undefined) {
    query = query.where(
      'n.received_at',
      '<',
      sql<Date>`now() - make_interval(secs => ${page.receivedBeforeMs / 1000})`,
    );
  }
  return query.execute();
}

export async function markWebhookNotificationsProcessed(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_notifications')
    .set({ processed_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .execute();
}

/**
 * Retention: deletes processed notifications received more than `olderThanDays` days ago, at most
 * `limit` rows per call (a short transaction each); returns how many went. Unprocessed rows stay.
 */
export async function pruneProcessedWebhookNotifications(
  db: Db,
  olderThanDays: number,
  limit = 10_000,
): Promise<number> {
  const result = await db
    .deleteFrom('webhook_notifications')
    .where(
      'id',
      'in',
      db
        .selectFrom('webhook_notifications')
        .select('id')
        .where('processed_at', 'is not', null)
        .where('received_at', '<', sql<Date>`now() - make_interval(days => ${olderThanDays})`)
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
