import { Webhook } from 'standardwebhooks';
import {
  clearEndpointFailures,
  findWebhookEndpointById,
  noteEndpointFailure,
  recordWebhookDelivery,
} from '../db/webhook-endpoints';
import { readWebhookSecrets, signingSecrets } from '../db/webhook-endpoint-secrets';
import { findWebhookEvent } from '../db/webhook-events';
import type { ActivityDeps } from './deps';

export interface DeliverWebhookArgs {
  endpointId: string;
  eventId: string;
  /** 1 for the first try of this event to this endpoint; logged with the outcome. */
  attempt: number;
  /** Disable the endpoint once every delivery has failed for this long. */
  failureWindowMs: number;
}

export type DeliverWebhookResult =
  | { outcome: 'delivered'; statusCode: number }
  | { outcome: 'failed'; statusCode: number | null; error: string }
  /** Deleted, disabled (now or earlier), or the event is gone: stop trying. */
  | { outcome: 'stopped'; reason: string };

/** Answers slower than this count as failures (and the receiver should answer first, work after). */
const DELIVERY_TIMEOUT_MS = 15_000;

/**
 * One delivery attempt of one event to one endpoint: signed per Standard Webhooks with the current
 * secret (and the previous one during a rotation's overlap, space-separated in `webhook-signature`),
 * POSTed, and logged whatever happens. A 2xx is success; anything else, a timeout or a refused
 * connection is a failure the workflow retries. HTTP failures are results, not thrown errors, so
 * Temporal's activity retries are left for our own faults (the database being away).
 */
export function createDeliverWebhook({ db, logger, secrets: cipher }: ActivityDeps) {
  return async function deliverWebhook(args: DeliverWebhookArgs): Promise<DeliverWebhookResult> {
    const endpoint = await findWebhookEndpointById(db, args.endpointId);
    if (!endpoint || endpoint.deleted_at) return { outcome: 'stopped', reason: 'endpoint deleted' };
    if (endpoint.status !== 'enabled') {
      return {
        outcome: 'stopped',
        reason: `endpoint disabled: ${endpoint.disabled_reason ?? 'by its owner'}`,
      };
    }
    const event = await findWebhookEvent(db, args.eventId);
    if (!event) return { outcome: 'stopped', reason: 'event not found' };
    // Sealed by the dispatcher before it signals; never seen unsealed, but retrying is the safe answer.
    if (event.body === null) throw new Error(`Event ${event.event_id} has no body yet.`);

    // Opened here, by endpoint id, and used only to sign: the secret is never in the workflow's
    // input or result, nor in a log line (a key that is gone throws, naming the key id only).
    const { secrets } = await readWebhookSecrets(db, cipher, endpoint);
    const body = event.body;
    const timestamp = new Date();
    const signature = signingSecrets(endpoint, secrets, timestamp)
      .map((secret) => new Webhook(secret).sign(event.event_id, timestamp, body))
      .join(' ');
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'faxflow-webhooks/1',
          'webhook-id': event.event_id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
    } catch (err) {
      error = describeFetchError(err);
    }
    const durationMs = Math.round(performance.now() - started);
    await recordWebhookDelivery(db, {
      endpointId: endpoint.id,
      eventId: event.event_id,
      eventType: event.type,
      attempt: args.attempt,
      statusCode,
      error,
      durationMs,
    });
    if (error === null) {
      await clearEndpointFailures(db, endpoint.id);
      return { outcome: 'delivered', statusCode: statusCode! };
    }
    const { disabled } = await noteEndpointFailure(db, endpoint.id, args.failureWindowMs, error);
    logger.info(
      {
        endpointId: endpoint.id,
        eventId: event.event_id,
        attempt: args.attempt,
        statusCode,
        error,
        disabled,
      },
      'webhook delivery failed',
    );
    if (disabled) return { outcome: 'stopped', reason: 'endpoint disabled after a window of failures' };
    return { outcome: 'failed', statusCode, error };
  };
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
