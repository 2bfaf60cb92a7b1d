import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { reconcileWorkflowId, subscriptionWorkflowId } from '../contracts/workflow-ids';
import { subscriptionCheckSignal, subscriptionStateQuery } from '../contracts/workflow-messages';
import type { ReconcileWorkflowInput, SubscriptionWorkflowInput } from '../contracts/workflow-types';
import type { ReconcileWorkflow } from '../workflows/reconcile-workflow';
import type { SubscriptionWorkflow } from '../workflows/subscription-workflow';

export interface KeeperOptions {
  /** The reconciler's `coalesceMs`: give the same as to the notification processor. */
  coalesceMs?: number;
}

/**
 * Makes sure the credential's SubscriptionWorkflow runs with today's receiver address. A running
 * one with another address (the public URL changed) is replaced; otherwise it is asked to check now.
 * The credential's ReconcileWorkflow is started too, idle, before any notification needs it (see
 * `ensureReconcileWorkflow`).
 */
export async function ensureSubscriptionWorkflow(
  client: Client,
  taskQueue: string,
  input: SubscriptionWorkflowInput,
  opts: KeeperOptions = {},
): Promise<{ workflowId: string; started: boolean }> {
  const kept = await keepSubscriptionWorkflow(client, taskQueue, input);
  await ensureReconcileWorkflow(client, taskQueue, {
    credentialKey: input.credentialKey,
    ...(opts.coalesceMs !== undefined && { coalesceMs: opts.coalesceMs }),
  });
  return kept;
}

/**
 * Starts the credential's ReconcileWorkflow if it is not running; it waits, idle, for notifications.
 * Started on demand by the first notification instead, its first workflow task queues behind the
 * first tasks of every FaxWorkflow started in the same burst (new workflows share the task queue;
 * only a workflow a worker already holds gets its tasks on that worker's own queue), and under CPU
 * pressure it ran only after the burst's faxes had been settled by polling.
 */
export async function ensureReconcileWorkflow(
  client: Client,
  taskQueue: string,
  input: ReconcileWorkflowInput,
): Promise<void> {
  await client.workflow.start<typeof ReconcileWorkflow>('ReconcileWorkflow', {
    workflowId: reconcileWorkflowId(input.credentialKey),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `RingCentral status reconciler for credential ${input.credentialKey}`,
  });
}

async function keepSubscriptionWorkflow(
  client: Client,
  taskQueue: string,
  input: SubscriptionWorkflowInput,
): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = subscriptionWorkflowId(input.credentialKey);
  const handle = client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') {
      const state = await handle.query(subscriptionStateQuery);
      if (state.address === input.address) {
        // We (re)started: have it look at once rather than at its next regular check, in case the
        // subscription died while we were away (RingCentral, or a simulator, may have dropped it).
        await handle.signal(subscriptionCheckSignal);
        return { workflowId, started: false };
      }
      await handle.terminate(`receiver address changed from ${state.address} to ${input.address}`);
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  await client.workflow.start<typeof SubscriptionWorkflow>('SubscriptionWorkflow', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `RingCentral webhook subscription for credential ${input.credentialKey}`,
  });
  return { workflowId, started: true };
}

/** What every connection's keeper shares: the receiver's address and the subscription's timing. */
export type ConnectionUpkeepOptions = Omit<SubscriptionWorkflowInput, 'credentialKey' | 'subscriptionId'>;

/**
 * For ActivityDeps.ensureConnectionUpkeep: starts a connection's SubscriptionWorkflow the first time
 * one of its jobs is registered (once per process and connection; an already running one is kept),
 * on the task queue of the workers that registered the job. With the subscription in place the
 * receiver routes the connection's notifications (subscriptionId -> connection) to its reconciler.
 */
export function connectionUpkeep(
  opts: ConnectionUpkeepOptions,
): (connectionId: string, client: Client, taskQueue: string) => Promise<void> {
  const started = new Map<string, Promise<void>>();
  return (connectionId, client, taskQueue) => {
    let once = started.get(connectionId);
    if (!once) {
      once = client.workflow
        .start<typeof SubscriptionWorkflow>('SubscriptionWorkflow', {
          workflowId: subscriptionWorkflowId(connectionId),
          taskQueue,
          args: [{ ...opts, credentialKey: connectionId }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `RingCentral webhook subscription for connection ${connectionId}`,
        })
        .then(
          () => undefined,
          (err: unknown) => {
            started.delete(connectionId); // the next job of the connection tries again
            throw err;
          },
        );
      started.set(connectionId, once);
    }
    return once;
  };
}
