import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { subscriptionWorkflowId } from '../workflows/ids';
import { subscriptionStateQuery } from '../workflows/signals';
import type { SubscriptionWorkflowInput } from '../workflows/types';

/**
 * Makes sure the credential's SubscriptionWorkflow runs with today's receiver address. A running
 * one with another address (the public URL changed) is replaced; otherwise it is left alone.
 */
export async function ensureSubscriptionWorkflow(
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
      if (state.address === input.address) return { workflowId, started: false };
      await handle.terminate(`receiver address changed from ${state.address} to ${input.address}`);
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  await client.workflow.start('SubscriptionWorkflow', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `RingCentral webhook subscription for credential ${input.credentialKey}`,
  });
  return { workflowId, started: true };
}
