import type {
  V1EventType,
  V1Fax,
  V1WebhookDelivery,
  V1WebhookEndpoint,
  V1WebhookEndpointWithSecret,
} from '../../contracts/v1-api';
import type { FaxFile } from './multipart';

export interface SendFaxInput {
  /** One number for a fax; several make a broadcast. */
  to: string | string[];
  files: FaxFile[];
  coverPageText?: string;
  coverPage?: string;
  resolution?: 'High' | 'Low';
  sendAt?: Date | string;
  schedule?: 'faxflow' | 'ringcentral';
  metadata?: Record<string, string>;
  /** The same key with the same request returns the original answer (`replayed: true`). */
  idempotencyKey?: string;
}

export interface SendFaxResult {
  faxes: V1Fax[];
  broadcastId: string | null;
  /** The API answered from an earlier request with the same idempotency key. */
  replayed: boolean;
}

export interface ListFaxesFilter {
  status?: string;
  recipient?: string;
  createdFrom?: Date | string;
  createdTo?: Date | string;
  metadata?: Record<string, string>;
  limit?: number;
  cursor?: string;
}

export interface WaitForFaxOptions {
  timeoutMs?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
  onUpdate?: (fax: V1Fax) => void;
}

export interface CreateWebhookEndpointInput {
  url: string;
  events: V1EventType[];
  description?: string;
}

/** The shapes the webhook-endpoint routes answer, under the client's names. */
export type WebhookEndpoint = V1WebhookEndpoint;
export type WebhookEndpointWithSecret = V1WebhookEndpointWithSecret;
export type WebhookDeliveryLogEntry = V1WebhookDelivery;
