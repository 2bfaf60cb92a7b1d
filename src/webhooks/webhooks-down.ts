import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { webhooksDownSignal } from '../contracts/workflow-messages';
import { listOpenJobWorkflowsOfConnection } from '../db/fax-jobs';
import type { Db } from '../db/schema';

/** Signals in flight at once. */
const CONCURRENCY = 16;

/**
 * Tells every unfinished job of a connection that its status webhooks stopped (the subscription
 * vanished, was suspended or blacklisted, or sent faxes went unannounced): a job waiting for a
 * status webhook polls at once instead of at its next rare poll (issue 8 #9d). Telling a job twice
 * costs at most one extra poll; jobs not waiting for a status only stop trusting webhooks.
 * Returns how many were told.
 */
export async function notifyWebhooksDown(
  client: Client,
  db: Db,
  connectionId: string,
  reason: string,
): Promise<number> {
  const workflowIds = await listOpenJobWorkflowsOfConnection(db, connectionId);
  let told = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < workflowIds.length) {
      const workflowId = workflowIds[next++]!;
      try {
        await client.workflow.getHandle(workflowId).signal(webhooksDownSignal, { connectionId, reason });
        told++;
      } catch (err) {
        // Finished meanwhile (its row is closed by the reconciler's sweep if it never recorded it).
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, workflowIds.length) }, worker));
  return told;
}
