import { condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import {
  webhookEventSignal,
  type WebhookDeliveryInput,
  type WebhookDeliveryResult,
  type WebhookEventSignal,
} from '../contracts/webhook-delivery';

const { deliverWebhook } = proxyActivities<FaxActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '20 seconds',
  // Retries here are for our own faults (the database away); HTTP failures come back as results.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Delivers the events of one job (or broadcast) to one endpoint, in order, at least once.
 *
 * Ordering design: the dispatcher (src/events/dispatcher.ts) is a single leader (a Postgres advisory
 * lock) that reads the outbox in id order, and per job the outbox ids follow the job's sequence (the
 * status change holds the job's row lock until it commits). It signals-with-start this workflow, one
 * per (endpoint, job) under a deterministic id, so the signals arrive in sequence order; the workflow
 * delivers its queue strictly one event after the other, retrying the head (exponential backoff with
 * jitter, every attempt logged by the activity) and never starting the next before the head is
 * delivered or given up. A signal repeated by a dispatcher that crashed before marking its rows is
 * dropped by sequence. With nothing left, the workflow waits `idleMs` for more and ends; the next
 * event starts a fresh run under the same id.
 */
export async function WebhookDeliveryWorkflow(
  input: WebhookDeliveryInput,
  first?: WebhookEventSignal,
): Promise<WebhookDeliveryResult> {
  const { policy } = input;
  const queue: WebhookEventSignal[] = [];
  let highest = 0;
  const accept = (e: WebhookEventSignal) => {
    if (e.sequence <= highest) return;
    highest = e.sequence;
    queue.push(e);
  };
  if (first) accept(first);
  setHandler(webhookEventSignal, accept);

  const result: WebhookDeliveryResult = { delivered: 0, abandoned: 0 };
  for (;;) {
    if (queue.length === 0 && !(await condition(() => queue.length > 0, policy.idleMs))) return result;
    const event = queue[0]!;
    const firstTry = Date.now();
    for (let attempt = 1; ; attempt++) {
      const r = await deliverWebhook({
        endpointId: input.endpointId,
        eventId: event.eventId,
        attempt,
        failureWindowMs: policy.failureWindowMs,
      });
      if (r.outcome === 'delivered') {
        result.delivered++;
        break;
      }
      if (r.outcome === 'stopped') {
        // The endpoint is gone or disabled: nothing queued can be delivered either.
        result.abandoned += queue.length;
        result.reason = r.reason;
        return result;
      }
      if (Date.now() - firstTry >= policy.giveUpAfterMs) {
        result.abandoned++;
        result.reason = `gave up on ${event.eventId} after ${attempt} attempts`;
        break;
      }
      await sleep(retryDelay(policy.initialDelayMs, policy.maxDelayMs, attempt));
    }
    queue.shift();
  }
}

/** Exponential with ±20 % jitter (Math.random is seeded per workflow: replay sees the same delays). */
export function retryDelay(initialMs: number, maxMs: number, attempt: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * Math.random())));
}
