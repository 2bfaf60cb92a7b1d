/** Deterministic workflow id: one job, one workflow, however often it is submitted. */
export function faxWorkflowId(jobId: string): string {
  return `fax-${jobId}`;
}

export function broadcastWorkflowId(broadcastId: string): string {
  return `broadcast-${broadcastId}`;
}

/** The job id of recipient `index` of a broadcast: stable, so a retried broadcast starts no twins. */
export function broadcastJobId(broadcastId: string, index: number): string {
  return `${broadcastId}.${index + 1}`;
}

/** One subscription keeper per RingCentral credential. */
export function subscriptionWorkflowId(credentialKey: string): string {
  return `ringcentral-subscription-${credentialKey}`;
}

/** One reconciler per RingCentral credential: signal-with-start finds it or starts it. */
export function reconcileWorkflowId(credentialKey: string): string {
  return `ringcentral-reconcile-${credentialKey}`;
}
