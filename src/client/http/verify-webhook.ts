import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { V1EventEnvelope } from '../../contracts/v1-api';
import { FaxflowApiError } from './errors';

type Headers_ = Headers | Record<string, string | string[] | undefined>;

function header(headers: Headers_, name: string): string {
  if (headers instanceof Headers) return headers.get(name) ?? '';
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/**
 * Verifies a delivery of faxflow's event webhooks (Standard Webhooks: `webhook-id`,
 * `webhook-timestamp` within 5 minutes, `webhook-signature`) against the endpoint's secret (or
 * several, while you rotate) and returns the event. Pass the body exactly as received (string or
 * Buffer), before any JSON parsing. Throws `FaxflowApiError('INVALID_SIGNATURE', 400, ...)`.
 */
export function verifyWebhook(
  body: string | Buffer | Uint8Array,
  headers: Headers_,
  secret: string | string[],
): V1EventEnvelope {
  const h = {
    'webhook-id': header(headers, 'webhook-id'),
    'webhook-timestamp': header(headers, 'webhook-timestamp'),
    'webhook-signature': header(headers, 'webhook-signature'),
  };
  const payload = typeof body === 'string' ? body : Buffer.from(body);
  let last: unknown;
  for (const s of Array.isArray(secret) ? secret : [secret]) {
    try {
      return new Webhook(s).verify(payload, h) as V1EventEnvelope;
    } catch (err) {
      last = err;
    }
  }
  const why = last instanceof WebhookVerificationError ? last.message : 'no secret given';
  throw new FaxflowApiError('INVALID_SIGNATURE', 400, `The webhook delivery did not verify: ${why}.`);
}
