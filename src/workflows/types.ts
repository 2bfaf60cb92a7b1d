import type { FaxJobStatus, RingCentralMessageStatus } from '../domain/fax-status';
import type { DocumentRef } from '../storage/document-store';

/** What an upstream system asks for: one recipient, one document set. */
export interface FaxWorkflowInput {
  /** Stable id of the job; also the idempotency key the workflow id is derived from. */
  jobId: string;
  /** Recipient as given; validation normalises it to E.164. */
  to: string;
  recipientName?: string;
  /** References into the document store; the bytes never enter workflow history. */
  documents: DocumentRef[];
  tenantId?: string;
  /** ISO 8601: wait for this instant (durable timer) before sending. */
  sendAt?: string;
  coverIndex?: number;
  coverPageText?: string;
  faxResolution?: 'High' | 'Low';
  policy?: Partial<FaxPolicy>;
}

/** Timing and retry rules of one job. Defaults suit real fax lines; tests and the demo shrink them. */
export interface FaxPolicy {
  /** Send attempts in all, including redials. */
  maxAttempts: number;
  /** Wait before the first redial; doubles each time. */
  redialBackoffMs: number;
  /** First wait before polling RingCentral for the status; grows by `pollGrowth` up to `pollMaxMs`. */
  pollInitialMs: number;
  pollMaxMs: number;
  pollGrowth: number;
  /** A fax that stays `Sent` this long without a final word counts as success (`SentUnconfirmed`). */
  sentQuietPeriodMs: number;
  /** From the start of the workflow (or the send time, if later): give up as `Expired` after this. */
  killAfterMs: number;
}

export const DEFAULT_POLICY: FaxPolicy = {
  maxAttempts: 3,
  redialBackoffMs: 5 * 60_000,
  pollInitialMs: 30_000,
  pollMaxMs: 5 * 60_000,
  pollGrowth: 2,
  sentQuietPeriodMs: 30 * 60_000,
  killAfterMs: 24 * 60 * 60_000,
};

/** A status observation from outside the workflow (RingCentral webhook → reconciler). */
export interface DeliveryStatusSignal {
  messageId: string;
  status: RingCentralMessageStatus;
  faxErrorCode?: string;
}

export interface FaxTimelineEntry {
  at: string;
  status: FaxJobStatus | RingCentralMessageStatus;
  attempt?: number;
  messageId?: string;
  faxErrorCode?: string;
  note?: string;
}

/** What the `status` query returns: the whole story so far and what happens next. */
export interface FaxWorkflowState {
  jobId: string;
  status: FaxJobStatus;
  recipient: string;
  attempt: number;
  messageId?: string;
  timeline: FaxTimelineEntry[];
  next?: { action: string; at: string };
}

export interface FaxWorkflowResult {
  jobId: string;
  status: FaxJobStatus;
  recipient: string;
  attempts: number;
  messageId?: string;
  errorCode?: string;
  errorMessage?: string;
}
