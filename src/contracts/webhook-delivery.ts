import { defineSignal } from '@temporalio/workflow';

/**
 * Signed event webhooks to upstream: what the dispatcher (src/events/dispatcher.ts) tells a
 * `WebhookDeliveryWorkflow`. Only ids travel through Temporal: the event body and the endpoint's
 * secret stay in Postgres and are read by the delivery activity.
 */
export interface WebhookEventSignal {
  /** Public event id (`evt_...`): the `webhook-id` header. */
  eventId: string;
  type: string;
  /** Per job (or broadcast), increasing in the order the events were written. */
  sequence: number;
}

export interface WebhookRetryPolicy {
  /** First retry after this, doubling (with ±20 % jitter) up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** An endpoint that has failed for this long without a single success is disabled. */
  failureWindowMs: number;
  /** An event still undelivered this long after it was first tried is given up. */
  giveUpAfterMs: number;
  /** A workflow with nothing left to deliver waits this long for more of its job's events, then ends. */
  idleMs: number;
}

/** Retries over hours: 10 s, 20 s, 40 s, ... up to 1 h between tries; disabled after a day of failures. */
export const DEFAULT_WEBHOOK_RETRY_POLICY: WebhookRetryPolicy = {
  initialDelayMs: 10_000,
  maxDelayMs: 60 * 60_000,
  failureWindowMs: 24 * 60 * 60_000,
  giveUpAfterMs: 3 * 24 * 60 * 60_000,
  idleMs: 60_000,
};

export interface WebhookDeliveryInput {
  endpointId: string;
  /** The job (or `broadcast:<id>`) whose events this workflow delivers, in order. */
  streamKey: string;
  policy: WebhookRetryPolicy;
}

export interface WebhookDeliveryResult {
  delivered: number;
  abandoned: number;
  reason?: string;
}

export const webhookEventSignal = defineSignal<[WebhookEventSignal]>('webhookEvent');

/**
 * One workflow per (endpoint, job): signal-with-start on this id finds the running one or starts
 * it, so a dispatcher restart starts no twin. Ids of both parts are URL-safe.
 */
export function webhookDeliveryWorkflowId(endpointId: string, streamKey: string): string {
  return `webhook-delivery-${endpointId}-${streamKey}`;
}
