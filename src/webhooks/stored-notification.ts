/** A webhook notification as stored in `webhook_notifications`, handed to whoever processes it. */
export interface StoredNotification {
  /** `webhook_notifications.id`; the processor marks `processed_at` on this row when done. */
  notificationId: number;
  subscriptionId: string;
  /** The credential the subscription belongs to (`ringcentral_subscriptions.credential_key`). */
  credentialKey: string;
  /** The task queue of the fleet holding that credential, when the subscription recorded it. */
  taskQueue?: string;
  /** The whole notification as received: `{ uuid, event, timestamp, subscriptionId, ownerId, body }`. */
  body: Record<string, unknown>;
}

/**
 * Receives stored notifications. It is called without being awaited by the HTTP path, and again at
 * start-up for every row still unprocessed, so it must be idempotent (a notification can arrive twice:
 * RingCentral redelivers, and a crash can come after processing but before `processed_at` was set).
 */
export type NotificationHandler = (notification: StoredNotification) => Promise<void>;
