import { Context } from '@temporalio/activity';
import { legacyFaxWorkflowId } from '../contracts/workflow-ids';

/**
 * The `fax_jobs` row an activity of FaxWorkflow works on. Rows are keyed by the job's workflow id,
 * which workflows pass as `jobId`. A task scheduled before that (by a run from before tenants) still
 * carries the bare key: its workflow's id (`fax-<key>`) names the row then.
 */
export function jobRowId(jobId: string): string {
  let workflowId: string | undefined;
  try {
    workflowId = Context.current().info.workflowExecution?.workflowId;
  } catch {
    return jobId;
  }
  return workflowId === legacyFaxWorkflowId(jobId) ? workflowId : jobId;
}
