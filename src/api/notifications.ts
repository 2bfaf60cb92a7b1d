import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema';

/** A webhook notification as stored in `webhook_notifications`, handed to whoever processes it. */
export interface StoredNotification {
  /** `webhook_notifications.id`; the processor marks `processed_at` on this row when done. */
  notificationId: number;
  subscriptionId: string;
  /** The credential the subscription belongs to (`ringcentral_subscriptions.credential_key`). */
  credentialKey: string;
  /** The whole notification as received: `{ uuid, event, timestamp, subscriptionId, ownerId, body }`. */
  body: Record<string, unknown>;
}

/**
 * Receives stored notifications. It is called without being awaited by the HTTP path, and again at
 * start-up for every row still unprocessed, so it must be idempotent (a notification can arrive twice:
 * RingCentral redelivers, and a crash can come after processing but before `processed_at` was set).
 */
export type NotificationHandler = (notification: StoredNotification) => Promise<void>;

export interface RecoveryOptions {
  /** pino or Fastify's logger. */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Only rows with an id up to this one (rows stored later are handed on by the HTTP path itself). */
  upToId?: number;
  batchSize?: number;
  /** Stops between two notifications (e.g. when the server is closing). */
  signal?: AbortSignal;
}

export interface RecoveryResult {
  delivered: number;
  failed: number;
  /** Rows whose subscription row no longer exists: left unprocessed, and logged. */
  skipped: number;
}

/** The highest notification id stored so far (0 when there is none). */
export async function lastNotificationId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('webhook_notifications')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return row?.max == null ? 0 : Number(row.max);
}

/**
 * A crash between persisting a notification and processing it is recovered at start-up: every row with
 * `processed_at IS NULL` is handed to `onNotification` again, oldest first, one at a time. A callback
 * that fails is logged and does not stop the others (its row stays unprocessed).
 */
export async function recoverUnprocessedNotifications(
  db: Kysely<Database>,
  onNotification: NotificationHandler,
  opts: RecoveryOptions = {},
): Promise<RecoveryResult> {
  const batchSize = opts.batchSize ?? 100;
  const result: RecoveryResult = { delivered: 0, failed: 0, skipped: 0 };
  let afterId = 0;
  for (;;) {
    let query = db
      .selectFrom('webhook_notifications as n')
      .leftJoin('ringcentral_subscriptions as s', 's.id', 'n.subscription_id')
      .select(['n.id', 'n.subscription_id', 'n.body', 's.credential_key'])
      .where('n.processed_at', 'is', null)
      .where('n.id', '>', afterId)
      .orderBy('n.id')
      .limit(batchSize);
    if (opts.upToId !== undefined) query = query.where('n.id', '<=', opts.upToId);
    const rows = await query.execute();
    for (const row of rows) {
      if (opts.signal?.aborted) return result;
      afterId = Number(row.id);
      if (row.credential_key === null) {
        result.skipped++;
        opts.logger?.warn(
          { notificationId: afterId, subscriptionId: row.subscription_id },
          'unprocessed webhook notification names a subscription that no longer exists; left as is',
        );
        continue;
      }
      try {
        await onNotification({
          notificationId: afterId,
          subscriptionId: row.subscription_id,
          credentialKey: row.credential_key,
          body: row.body,
        });
        result.delivered++;
      } catch (err) {
        result.failed++;
        opts.logger?.error({ err, notificationId: afterId }, 'recovering a webhook notification failed');
      }
    }
    if (rows.length < batchSize) return result;
  }
}
