import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { cancelUpdate, rescheduleUpdate, statusQuery } from '../../contracts/workflow-messages';
import type { CancelFaxResult, FaxWorkflowState, RescheduleFaxResult } from '../../contracts/workflow-types';

/**
 * What the v1 routes ask of a running job, by the workflow id recorded with it in Postgres (so that
 * they never rebuild workflow ids themselves). Updates are the workflow's own `cancel` and
 * `reschedule`: it alone knows whether the fax has gone out.
 */
export interface WorkflowControl {
  /** Live state (the `status` query); undefined when the workflow is gone or does not answer. */
  status(workflowId: string): Promise<FaxWorkflowState | undefined>;
  cancel(workflowId: string): Promise<CancelFaxResult>;
  reschedule(workflowId: string, sendAt: string): Promise<RescheduleFaxResult>;
}

/** A workflow that has finished (or is gone) can be neither canceled nor moved. */
function closed(err: unknown): string | undefined {
  if (err instanceof WorkflowNotFoundError) return 'the fax job has already finished';
  const message = err instanceof Error ? err.message : '';
  if (/already completed|workflow execution already/i.test(message))
    return 'the fax job has already finished';
  return undefined;
}

export function temporalWorkflowControl(client: Client): WorkflowControl {
  return {
    async status(workflowId) {
      try {
        return await client.workflow.getHandle(workflowId).query(statusQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },
    async cancel(workflowId) {
      try {
        return await client.workflow.getHandle(workflowId).executeUpdate(cancelUpdate);
      } catch (err) {
        const reason = closed(err);
        if (reason) return { canceled: false, reason };
        throw err;
      }
    },
    async reschedule(workflowId, sendAt) {
      try {
        return await client.workflow
          .getHandle(workflowId)
          .executeUpdate(rescheduleUpdate, { args: [sendAt] });
      } catch (err) {
        const reason = closed(err);
        if (reason) return { rescheduled: false, reason };
        throw err;
      }
    },
  };
}
