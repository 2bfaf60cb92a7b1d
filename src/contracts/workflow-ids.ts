/** Deterministic workflow id: one job, one workflow, however often it is submitted. */
export function faxWorkflowId(jobId: string): string {
  return `fax-${jobId}`;
}

export function broadcastWorkflowId(broadcastId: string): string {
  return `broadcast-${broadcastId}`;
}

/**
 * The job id of recipient `index` of a broadcast: stable, so a retried broadcast starts no twins.
 * `~` is never allowed in an idempotency key (JOB_ID_PATTERN), so a child's id cannot be a single
 * fax's key: `inv~1` is broadcast `inv`'s first recipient, `inv.1` can only be a key of its own.
 */
export function broadcastJobId(broadcastId: string, index: number): string {
  return `${broadcastId}~${index + 1}`;
}

/** Children of broadcasts started before the `~` separator (still valid while they run). */
export function legacyBroadcastJobId(broadcastId: string, index: number): string {
  return `${broadcastId}.${index + 1}`;
}

/** Job ids a client may ask about: an idempotency key, or a key and a recipient number after `~`. */
export const FAX_JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}(?:~[1-9][0-9]{0,3})?$/;

/** One subscription keeper per RingCentral credential. */
export function subscriptionWorkflowId(credentialKey: string): string {
  return `ringcentral-subscription-${credentialKey}`;
}

/** One reconciler per RingCentral credential: signal-with-start finds it or starts it. */
export function reconcileWorkflowId(credentialKey: string): string {
  return `ringcentral-reconcile-${credentialKey}`;
}
