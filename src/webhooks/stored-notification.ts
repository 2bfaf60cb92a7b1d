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
export interface NotificationHandler {
  (notification: StoredNotification): Promise<void>;
  /**
   * Asked by the HTTP path before it stores a notification: true when this one adds nothing to what
   * is already on its way, so it is acknowledged without a row of its own. Optional: a handler
   * without it has every notification stored.
   */
  absorb?: (notification: UnstoredNotification) => boolean;
}

/** A notification that has been authenticated but not stored. */
export interface UnstoredNotification {
  /** A credential's notifications share one signalling window (and so one reconciler signal). */
  credentialKey: string;
  /** The whole notification as received, as in StoredNotification. */
  body: Record<string, unknown>;
}
