import type { Logger } from 'pino';
import type { Db } from '../db/schema';
import { listUnprocessedWebhookNotifications } from '../db/webhook-notifications';
import type { NotificationHandler } from './stored-notification';

export interface RecoveryOptions {
  /** pino or Fastify's logger. */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Only rows with an id up to this one (rows stored later are handed on by the HTTP path itself). */
  upToId?: number;
  /** Only rows received at least this long ago (the sweep leaves fresh hand-offs to the request path). */
  receivedBeforeMs?: number;
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

/**
 * A crash between persisting a notification and processing it is recovered at start-up: every row with
 * `processed_at IS NULL` is handed to `onNotification` again, oldest first, one at a time. A callback
 * that fails is logged and does not stop the others (its row stays unprocessed).
 */
export async function recoverUnprocessedNotifications(
  db: Db,
  onNotification: NotificationHandler,
  opts: RecoveryOptions = {},
): Promise<RecoveryResult> {
  const batchSize = opts.batchSize ?? 100;
  const result: RecoveryResult = { delivered: 0, failed: 0, skipped: 0 };
  let afterId = 0;
  for (;;) {
    const rows = await listUnprocessedWebhookNotifications(db, {
      afterId,
      limit: batchSize,
      ...(opts.upToId !== undefined && { upToId: opts.upToId }),
      ...(opts.receivedBeforeMs !== undefined && { receivedBeforeMs: opts.receivedBeforeMs }),
    });
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
          ...(row.task_queue && { taskQueue: row.task_queue }),
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
