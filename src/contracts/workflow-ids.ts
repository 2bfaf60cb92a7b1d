import { DEFAULT_TENANT_ID } from '../domain/tenant-id';

/**
 * Deterministic workflow id: one job, one workflow, however often it is submitted. Scoped per
 * tenant (`fax-<tenant>-<key>`), so two tenants' equal keys are two jobs. The id is also the job's
 * row id in `fax_jobs`.
 *
 * Tenant ids and keys may both contain '-', so two (tenant, key) pairs can spell one id (tenant
 * `acme`, key `eu-1` and tenant `acme-eu`, key `1`); and a job from before tenants (`fax-<key>`)
 * can spell a scoped one. Whoever looks a job up by id therefore checks that the workflow it finds
 * belongs to the tenant (its `TenantId`; see the fax client), and a start that collides is refused.
 */
export function faxWorkflowId(jobId: string, tenantId: string = DEFAULT_TENANT_ID): string {
  return `fax-${tenantId}-${jobId}`;
}

/** A job's workflow id from before tenants: still running jobs and their histories keep it. */
export function legacyFaxWorkflowId(jobId: string): string {
  return `fax-${jobId}`;
}

export function broadcastWorkflowId(broadcastId: string, tenantId: string = DEFAULT_TENANT_ID): string {
  return `broadcast-${tenantId}-${broadcastId}`;
}

export function legacyBroadcastWorkflowId(broadcastId: string): string {
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

/** One subscription keeper per RingCentral connection (its id: the credential key of before). */
export function subscriptionWorkflowId(credentialKey: string): string {
  return `ringcentral-subscription-${credentialKey}`;
}

/** One reconciler per RingCentral connection: signal-with-start finds it or starts it. */
export function reconcileWorkflowId(credentialKey: string): string {
  return `ringcentral-reconcile-${credentialKey}`;
}
