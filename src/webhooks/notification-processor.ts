import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { NotificationHandler, StoredNotification } from '../api/notifications';
import type { Database } from '../db/schema';
import { reconcileWorkflowId } from '../workflows/ids';
import { faxesChangedSignal } from '../workflows/signals';
import type { ReconcileWorkflowInput } from '../workflows/types';

/**
 * What happens to a stored notification: its credential's reconciler is told "faxes changed"
 * (signal-with-start: started if it is not running), and only once Temporal has taken the signal
 * is the row marked processed. A crash in between leaves it unprocessed, to be redelivered at
 * start-up; a redelivered signal only causes one more comparison.
 */
export function createNotificationProcessor(deps: {
  db: Kysely<Database>;
  client: Client;
  taskQueue: string;
  coalesceMs?: number;
}): NotificationHandler {
  return async (notification: StoredNotification) => {
    const input: ReconcileWorkflowInput = {
      credentialKey: notification.credentialKey,
      ...(deps.coalesceMs !== undefined && { coalesceMs: deps.coalesceMs }),
    };
    await deps.client.workflow.signalWithStart('ReconcileWorkflow', {
      workflowId: reconcileWorkflowId(notification.credentialKey),
      taskQueue: deps.taskQueue,
      args: [input],
      signal: faxesChangedSignal,
      signalArgs: [{ newMessageIds: newMessageIds(notification.body) }],
    });
    await deps.db
      .updateTable('webhook_notifications')
      .set({ processed_at: new Date() })
      .where('id', '=', notification.notificationId)
      .execute();
  };
}

/** `body.changes[].newMessageIds` of a message-store notification, as strings. */
export function newMessageIds(notification: Record<string, unknown>): string[] {
  const body = notification.body as { changes?: { newMessageIds?: unknown[] }[] } | undefined;
  const ids = (body?.changes ?? []).flatMap((c) => (Array.isArray(c.newMessageIds) ? c.newMessageIds : []));
  return ids.filter((id) => typeof id === 'number' || typeof id === 'string').map(String);
}
