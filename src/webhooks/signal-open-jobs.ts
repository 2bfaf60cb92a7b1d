import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/workflow';
import { listOpenJobWorkflowsOfConnection } from '../db/fax-jobs';
import type { Db } from '../db/schema';

/** Signals in flight at once: one after another costs a round trip each, seconds for a burst. */
const CONCURRENCY = 16;

/**
 * Sends each workflow its own signal, 16 at a time. A workflow that finished meanwhile is skipped
 * (nothing is left to tell it). Returns how many were told.
 */
export async function signalWorkflows<T>(
  client: Client,
  signal: SignalDefinition<[T]>,
  targets: readonly { workflowId: string; arg: T }[],
): Promise<number> {
  let told = 0;
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < targets.length) {
      const { workflowId, arg } = targets[next++]!;
      try {
        await client.workflow.getHandle(workflowId).signal(signal, arg);
        told++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, sender));
  return told;
}

/**
 * Sends one signal to every unfinished job of a connection (found from Postgres). A job that
 * finished meanwhile is skipped (its row is closed by the reconciler's sweep if it never recorded
 * it). Returns how many were told.
 */
export async function signalOpenJobs<T>(
  client: Client,
  db: Db,
  connectionId: string,
  signal: SignalDefinition<[T]>,
  arg: T,
): Promise<number> {
  const workflowIds = await listOpenJobWorkflowsOfConnection(db, connectionId);
  return signalWorkflows(
    client,
    signal,
    workflowIds.map((workflowId) => ({ workflowId, arg })),
  );
}
