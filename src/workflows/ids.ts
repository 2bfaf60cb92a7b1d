/** Deterministic workflow id: one job, one workflow, however often it is submitted. */
export function faxWorkflowId(jobId: string): string {
  return `fax-${jobId}`;
}
