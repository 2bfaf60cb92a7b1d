import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { connectionRestoredSignal } from '../contracts/workflow-messages';
import { listOpenJobWorkflowsOfConnection } from '../db/fax-jobs';
import type { Db } from '../db/schema';

/** Signals in flight at once. */
const CONCURRENCY = 16;

/**
 * Tells every unfinished job of a connection that it works again (the tenant reconnected, e.g. the
 * PKCE callback): jobs waiting with status `WaitingForConnection` continue at once instead of at
 * their next periodic check. Jobs that are not waiting ignore the signal. Returns how many were told.
 */
export async function notifyConnectionRestored(
  client: Client,
  db: Db,
  connectionId: string,
): Promise<number> {
  const workflowIds = await listOpenJobWorkflowsOfConnection(db, connectionId);
  let told = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < workflowIds.length) {
      const workflowId = workflowIds[next++]!;
      try {
        await client.workflow.getHandle(workflowId).signal(connectionRestoredSignal, { connectionId });
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
