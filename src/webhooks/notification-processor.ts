import type { Client } from '@temporalio/client';
import type { Db } from '../db/schema';
import { markWebhookNotificationsProcessed } from '../db/webhook-notifications';
import { reconcileWorkflowId } from '../contracts/workflow-ids';
import { faxesChangedSignal } from '../contracts/workflow-messages';
import {
  DEFAULT_RECONCILE_COALESCE_MS,
  type FaxesChangedSignal,
  type ReconcileWorkflowInput,
} from '../contracts/workflow-types';
import type { ReconcileWorkflow } from '../workflows/reconcile-workflow';
import type { NotificationHandler, StoredNotification, UnstoredNotification } from './stored-notification';

interface Batch {
  taskQueue?: string;
  notificationIds: number[];
  newMessageIds: Set<string>;
  done: Promise<void>;
}

/** A credential's signalling window: no second signal goes out before `until`. */
interface Window {
  until: number;
  /** Notifications that arrived inside the window: one signal when it closes. */
  next?: Batch;
}

/**
 * What happens to stored notifications: their credential's reconciler is told "faxes changed"
 * (signal-with-start: started if it is not running), and only once Temporal has taken the signal
 * are the rows marked processed. A crash in between leaves them unprocessed, to be redelivered at
 * start-up; a redelivered signal only causes one more comparison.
 *
 * RingCentral sends several notifications per fax (new, rendered, Sent, Delivered), and each signal
 * is a Temporal action, a history event and a workflow task of the reconciler. So at most one signal
 * per credential goes out per `batchMs` (default: the reconciler's coalescing time): a notification
 * with no signal in the last window is signalled at once (the reconciler's own coalescing then starts
 * at once, so a lone fax's status is not held up twice), and those that arrive within the window share
 * one signal when it closes, which opens the next window. Under a steady stream that is one signal per
 * window, as many as the reconciler has list calls to make (issue 13: 0.6 signals and 0.6 reconciler
 * actions per fax with a fixed 100 ms batch, at 20 faxes/s).
 */
export function createNotificationProcessor(deps: {
  db: Db;
  client: Client;
  /** For credentials whose subscription recorded no task queue (rows from before it was stored). */
  taskQueue: string;
  coalesceMs?: number;
  batchMs?: number;
}): NotificationHandler & { absorb: (notification: UnstoredNotification) => boolean } {
  const windowMs = deps.batchMs ?? deps.coalesceMs ?? DEFAULT_RECONCILE_COALESCE_MS;
  const windows = new Map<string, Window>();

  const send = async (credentialKey: string, batch: Batch): Promise<void> => {
    const input: ReconcileWorkflowInput = {
      credentialKey,
      ...(deps.coalesceMs !== undefined && { coalesceMs: deps.coalesceMs }),
    };
    await deps.client.workflow.signalWithStart<typeof ReconcileWorkflow, [FaxesChangedSignal]>(
      'ReconcileWorkflow',
      {
        workflowId: reconcileWorkflowId(credentialKey),
        // The credential's own fleet: another fleet's workers hold another credential and refuse it.
        taskQueue: batch.taskQueue ?? deps.taskQueue,
        args: [input],
        signal: faxesChangedSignal,
        signalArgs: [{ newMessageIds: [...batch.newMessageIds] }],
      },
    );
    await markWebhookNotificationsProcessed(deps.db, batch.notificationIds);
  };

  const add = (batch: Batch, notification: StoredNotification): void => {
    batch.taskQueue ??= notification.taskQueue;
    batch.notificationIds.push(notification.notificationId);
    for (const id of newMessageIds(notification.body)) batch.newMessageIds.add(id);
  };
  const fresh = (): Batch => ({ notificationIds: [], newMessageIds: new Set(), done: Promise.resolve() });

  const handle = async (notification: StoredNotification): Promise<void> => {
    const key = notification.credentialKey;
    const now = Date.now();
    const open = windows.get(key);
    if (!open || (now >= open.until && !open.next)) {
      // Nothing signalled for this credential lately: signal at once and open a window.
      windows.set(key, { until: now + windowMs });
      const batch = fresh();
      add(batch, notification);
      batch.done = send(key, batch);
      return batch.done;
    }
    if (!open.next) {
      const batch = fresh();
      open.next = batch;
      batch.done = (async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, open.until - Date.now())));
        // Its signal opens the next window; what arrives from now on waits for that one.
        windows.set(key, { until: Date.now() + windowMs });
        await send(key, batch);
      })();
    }
    add(open.next, notification);
    return open.next.done;
  };

  /**
   * A notification that names no new message says only "a fax of this credential changed", and
   * the reconciler re-reads every fax in flight whenever it is signalled. So while a stored
   * notification of the same credential waits for its window's signal (which goes out after this
   * change, or at start-up recovery if this process dies first, since its row stays unprocessed),
   * this one adds nothing and needs no row: under load, 3 of the 4 notifications RingCentral sends
   * per fax (issue 13). One that names new messages is always stored: their ids go to the
   * reconciler, and its arrival proves the subscription alive (webhook-health.ts).
   */
  const absorb = ({ credentialKey, body }: UnstoredNotification): boolean => {
    const waiting = windows.get(credentialKey)?.next;
    // A waiting batch always holds the stored notification that opened it; checked all the same,
    // since covering rests on that row.
    if (!waiting || waiting.notificationIds.length === 0) return false;
    return announcesNothingNew(body);
  };

  return Object.assign(handle, { absorb });
}

/**
 * True only for a message-store notification whose every change is an update: a known shape, no
 * `newCount` above zero and no `newMessageIds`. Anything else is stored.
 */
export function announcesNothingNew(notification: Record<string, unknown>): boolean {
  const body = notification.body as { changes?: unknown } | undefined;
  if (!Array.isArray(body?.changes) || body.changes.length === 0) return false;
  return body.changes.every((c: unknown) => {
    if (c === null || typeof c !== 'object') return false;
    const change = c as { newCount?: unknown; newMessageIds?: unknown };
    const noneNew = change.newCount === undefined || change.newCount === 0;
    const noIds =
      change.newMessageIds === undefined ||
      (Array.isArray(change.newMessageIds) && change.newMessageIds.length === 0);
    return noneNew && noIds;
  });
}

/** `body.changes[].newMessageIds` of a message-store notification, as strings. */
export function newMessageIds(notification: Record<string, unknown>): string[] {
  const body = notification.body as { changes?: { newMessageIds?: unknown[] }[] } | undefined;
  const ids = (body?.changes ?? []).flatMap((c) => (Array.isArray(c.newMessageIds) ? c.newMessageIds : []));
  return ids.filter((id) => typeof id === 'number' || typeof id === 'string').map(String);
}
