/**
 * The shapes of faxflow's public HTTP API v1, shared by the routes (src/api/v1), the signed event
 * webhooks to upstream (src/events) and the typed HTTP client (src/client/http). Plain types, no
 * imports at runtime: the OpenAPI document is generated from the route schemas, and a test checks
 * these types against it.
 */
import type { FaxJobStatus } from '../domain/fax-status';

/** Every error answer: `{"error": {...}}`; `code` is one of the documented codes. */
export interface V1ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface V1FaxDocument {
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  pages: number | null;
}

export interface V1FaxAttempt {
  attempt: number;
  status: string;
  messageId: string | null;
  faxErrorCode: string | null;
  errorCode: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** What `GET /v1/faxes/:id` returns, and what every `fax.*` event carries as `data`. */
export interface V1Fax {
  object: 'fax';
  /** The job's id within its tenant: the idempotency key, or one generated at submission. */
  id: string;
  tenantId: string;
  broadcastId: string | null;
  status: FaxJobStatus | 'WaitingForConnection';
  final: boolean;
  to: string;
  recipientName: string | null;
  pages: number | null;
  documents: V1FaxDocument[];
  attempts: V1FaxAttempt[];
  /** What faxflow will do next and when (e.g. redial at 14:05), while the job is running. */
  nextAction: { kind: 'send' | 'redial' | 'poll' | 'wait-for-connection'; at: string | null } | null;
  sendAt: string | null;
  error: { code: string; message: string } | null;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  links: { self: string; events: string; report: string };
}

export interface V1FaxEvent {
  id: number;
  at: string;
  status: string;
  source: string;
  attempt: number | null;
  messageId: string | null;
  faxErrorCode: string | null;
}

export interface V1Page<T> {
  data: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface V1Broadcast {
  object: 'broadcast';
  id: string;
  tenantId: string;
  total: number;
  counts: Partial<Record<FaxJobStatus, number>>;
  completed: boolean;
  faxes: V1Fax[];
}

/** Events sent to upstream webhook endpoints (Standard Webhooks signed). */
export const V1_EVENT_TYPES = [
  'fax.queued',
  'fax.sent',
  'fax.delivered',
  'fax.failed',
  'fax.canceled',
  'fax.rejected',
  'fax.expired',
  'broadcast.completed',
] as const;
export type V1EventType = (typeof V1_EVENT_TYPES)[number];

/** The JSON body of one event delivery. `id` is also the `webhook-id` header. */
export interface V1EventEnvelope {
  id: string;
  type: V1EventType;
  createdAt: string;
  tenantId: string;
  data: V1Fax | V1Broadcast;
}

/** What the webhook-endpoint routes answer (the secret only on creation and rotation). */
export interface V1WebhookEndpoint {
  object: 'webhook_endpoint';
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  disabledAt: string | null;
  /** While set, every delivery since has failed; the endpoint is disabled a day after. */
  failingSince: string | null;
  /** The previous secret still signs deliveries (beside the new one) until then. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
}

export interface V1WebhookEndpointWithSecret extends V1WebhookEndpoint {
  /** `whsec_...`: shown here once; keep it to verify deliveries. */
  secret: string;
}

export interface V1WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
}
