import type { Client } from '@temporalio/client';
import type { Db } from '../db/schema';
import { markWebhookNotificationsProcessed } from '../db/webhook-notifications';
import { reconcileWorkflowId } from '../contracts/workflow-ids';
import { faxesChangedSignal } from '../contracts/workflow-messages';
import type { FaxesChangedSignal, ReconcileWorkflowInput } from '../contracts/workflow-types';
import type { ReconcileWorkflow } from '../workflows/reconcile-workflow';
import type { NotificationHandler, StoredNotification } from './stored-notification';

interface Batch {
  taskQueue?: string;
  notificationIds: number[];
  newMessageIds: Set<string>;
  done: Promise<void>;
}

/**
 * What happens to stored notifications: their credential's reconciler is told "faxes changed"
 * (signal-with-start: started if it is not running), and only once Temporal has taken the signal
 * are the rows marked processed. A crash in between leaves them unprocessed, to be redelivered at
 * start-up; a redelivered signal only causes one more comparison.
 *
 * Notifications arriving within `batchMs` of each other share one signal: RingCentral sends several
 * per fax (new, rendered, Sent, Delivered), and each signal is a Temporal action and a history event.
 */
export function createNotificationProcessor(deps: {
  db: Db;
  client: Client;
  /** For credentials whose subscription recorded no task queue (rows from before it was stored). */
  taskQueue: string;
  coalesceMs?: number;
  batchMs?: number;
}): NotificationHandler {
  const batchMs = deps.batchMs ?? 100;
  const batches = new Map<string, Batch>();

  const flush = async (credentialKey: string, batch: Batch): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, batchMs));
    batches.delete(credentialKey);
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

  return async (notification: StoredNotification) => {
    let batch = batches.get(notification.credentialKey);
    if (!batch) {
      const fresh: Batch = { notificationIds: [], newMessageIds: new Set(), done: Promise.resolve() };
      fresh.done = flush(notification.credentialKey, fresh);
      batches.set(notification.credentialKey, fresh);
      batch = fresh;
    }
    batch.taskQueue ??= notification.taskQueue;
    batch.notificationIds.push(notification.notificationId);
    for (const id of newMessageIds(notification.body)) batch.newMessageIds.add(id);
    await batch.done;
  };
}

/** `body.changes[].newMessageIds` of a message-store notification, as strings. */
export function newMessageIds(notification: Record<string, unknown>): string[] {
  const body = notification.body as { changes?: { newMessageIds?: unknown[] }[] } | undefined;
  const ids = (body?.changes ?? []).flatMap((c) => (Array.isArray(c.newMessageIds) ? c.newMessageIds : []));
  return ids.filter((id) => typeof id === 'number' || typeof id === 'string').map(String);
}
