import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/workflow';
import { listOpenJobWorkflowsOfConnection } from '../db/fax-jobs';
import type { Db } from '../db/schema';

/** Signals in flight at once. */
const CONCURRENCY = 16;

/**
 * Sends one signal to every unfinished job of a connection (found from Postgres), 16 at a time.
 * A job that finished meanwhile is skipped (its row is closed by the reconciler's sweep if it
 * never recorded it). Returns how many were told.
 */
export async function signalOpenJobs<T>(
  client: Client,
  db: Db,
  connectionId: string,
  signal: SignalDefinition<[T]>,
  arg: T,
): Promise<number> {
  const workflowIds = await listOpenJobWorkflowsOfConnection(db, connectionId);
  let told = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < workflowIds.length) {
      const workflowId = workflowIds[next++]!;
      try {
        await client.workflow.getHandle(workflowId).signal(signal, arg);
        told++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, workflowIds.length) }, worker));
  return told;
}
