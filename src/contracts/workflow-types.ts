import type { FaxJobStatus, RingCentralMessageStatus } from '../domain/fax-status';
import type { DocumentRef } from '../storage/document-store';
import type { FaxSendOptions } from './fax-send-options';

/** What an upstream system asks for: one recipient, one document set. */
export interface FaxWorkflowInput extends FaxSendOptions {
  /** Stable id of the job; also the idempotency key the workflow id is derived from. */
  jobId: string;
  /** Recipient as given; validation normalises it to E.164. */
  to: string;
  recipientName?: string;
  /** References into the document store; the bytes never enter workflow history. */
  documents: DocumentRef[];
  /** The tenant the job belongs to; absent: `default` (jobs from before tenants). */
  tenantId?: string;
  /**
   * The RingCentral connection that sends it (ringcentral/connections.ts); absent: the worker's own
   * credential (jobs from before connections, and single-credential deployments).
   */
  connectionId?: string;
  /** ISO 8601: send at this instant instead of now. */
  sendAt?: string;
  /**
   * How `sendAt` is honoured: `timer` (default) waits in a durable Temporal timer and sends then;
   * `ringcentral` sends at once with RingCentral's `sendTime` and cancels by deleting the message.
   */
  schedule?: 'timer' | 'ringcentral';
  /** A cover page of our own, drawn with pdf-lib and put in front of the documents. */
  coverPage?: CoverPageOptions;
  policy?: Partial<FaxPolicy>;
  /** Set only by continue-as-new: where the previous run stopped. */
  resume?: FaxResumeState;
  /**
   * Set by faxflow's client (issue 13): the start already carries FaxRecipient, normalised as
   * validation normalises it, so the run upserts FaxRecipient only if validation changed it, and
   * FaxMessageId in the same upsert as the Queued status. Every upsert is a history event and a
   * visibility write on the Temporal server (about 3 ms of its CPU each, bench:throughput). An
   * input field rather than `patched()`, which would cost a marker and an upsert of its own; runs
   * started without it (older clients, the Temporal UI) upsert each attribute alone. A broadcast
   * from faxflow's client passes it on to its children, whose start then sets FaxRecipient.
   */
  mergedUpserts?: true;
  /**
   * Set by faxflow's client with `mergedUpserts` (issue 13): FaxStatus is upserted only where a
   * status lasts. `Sending` shows only for a send still running after `SLOW_SEND_MS` (waiting for
   * its number, its rate budget or a retry; a send that answers at once is `Queued` a moment later),
   * and a status equal to the last one upserted (`Sent` observed, then `Sent` final) is not upserted
   * again. The `status` query's timeline still has every status. Such runs also take FaxWorkflow's
   * patches without markers (workflows/fax-patches.ts): the SDK pairs each marker with an upsert of
   * TemporalChangeVersion. A delivered fax then upserts twice (Queued with its message id, and the
   * outcome) instead of four times; runs without the flag upsert as they always did.
   */
  quietStatuses?: true;
  /**
   * Set by faxflow's client with `quietStatuses` (issue 13): `Queued`, and FaxMessageId with it, go
   * to the search attributes only once the message has been queued for `SLOW_SEND_MS` without an
   * outcome (a fax that is still queued, held for its send time or waiting for its status). A fax
   * whose outcome comes sooner upserts once: the outcome with its message id. The status wait's
   * own timer shows it, so this costs no timer either; the `status` query has Queued at once.
   */
  quietQueued?: true;
}

export interface CoverPageOptions {
  from?: string;
  note?: string;
  /** Adds the usual notice that the fax may contain confidential information. */
  confidential?: boolean;
}

/** What a run hands to its successor when the history grows long (continue-as-new). */
export interface FaxResumeState {
  recipient: string;
  documents: DocumentRef[];
  attempt: number;
  failedAttempts: number;
  messageId: string;
  known: RingCentralMessageStatus;
  sentAtMs?: number;
  sendAtMs?: number;
  deadline: number;
  timeline: FaxTimelineEntry[];
  /** A status signal that arrived but was not yet acted on: the successor acts on it first. */
  pendingSignal?: DeliveryStatusSignal;
  /** Webhooks were flowing when the run handed over: the successor keeps polling rarely. */
  webhooksHealthy?: boolean;
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
  /** Poll interval while RingCentral webhooks are healthy: polling is only the safety net then. */
  pollWithWebhooksMs: number;
  /** First retry of a send that failed in transit (doubles up to 5 min). */
  sendRetryInitialMs: number;
  /** Continue-as-new once a run's history has this many events (a status poll costs about 8). */
  continueAsNewAfterEvents: number;
  /** While the job waits for its RingCentral connection: how often it asks whether it is back. */
  connectionRecheckMs: number;
}

export const DEFAULT_POLICY: FaxPolicy = {
  maxAttempts: 3,
  redialBackoffMs: 5 * 60_000,
  pollInitialMs: 30_000,
  pollMaxMs: 5 * 60_000,
  pollGrowth: 2,
  sentQuietPeriodMs: 30 * 60_000,
  killAfterMs: 24 * 60 * 60_000,
  continueAsNewAfterEvents: 2_000,
  sendRetryInitialMs: 10_000,
  pollWithWebhooksMs: 10 * 60_000,
  connectionRecheckMs: 5 * 60_000,
};

/** One status of one message, as RingCentral reported it (by a poll or a webhook). */
export interface FaxStatusObservation {
  status: RingCentralMessageStatus;
  faxErrorCode?: string;
  pages?: number;
  /** Status webhooks are flowing for this credential: the workflow may poll rarely. */
  webhooksHealthy?: boolean;
  /**
   * Given with `Sent`: this credential's account does not report delivery, so Sent (without a
   * recipient error) is the final success. Decided by the activity, so replay sees the same answer.
   */
  sentIsFinal?: boolean;
}

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
  sendAt?: string;
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

export type CancelFaxResult = { canceled: true } | { canceled: false; reason: string };
export type RescheduleFaxResult =
  { rescheduled: true; sendAt: string } | { rescheduled: false; reason: string };

/** One document set to many recipients; every other field applies to each recipient's fax. */
export interface FaxBroadcastInput extends Omit<
  FaxWorkflowInput,
  'jobId' | 'to' | 'recipientName' | 'resume'
> {
  broadcastId: string;
  recipients: { to: string; name?: string }[];
}

export interface FaxBroadcastState {
  broadcastId: string;
  total: number;
  finished: number;
  counts: Partial<Record<FaxJobStatus, number>>;
}

export interface FaxBroadcastResult extends FaxBroadcastState {
  /** Delivered, or Sent and then silent (SentUnconfirmed). */
  succeeded: number;
  failed: number;
  results: FaxWorkflowResult[];
}

export interface SubscriptionWorkflowInput {
  credentialKey: string;
  /** Public URL of our webhook receiver. */
  address: string;
  subscriptionId?: string;
  expiresInSeconds?: number;
  renewBeforeMs?: number;
  checkEveryMs?: number;
}

export interface SubscriptionWorkflowState {
  credentialKey: string;
  address: string;
  subscriptionId?: string;
  status?: string;
  expiresAt?: string;
  lastCheckAt?: string;
  nextCheckAt?: string;
  checks: number;
  /** Checks that failed in a row; the keeper backs off and keeps trying. */
  failures?: number;
  /** Why the last check failed (e.g. RingCentral's 400 SUB-525: our receiver failed the handshake). */
  lastError?: string;
  history: { at: string; action: string; subscriptionId?: string; reason?: string }[];
}

/** How long the reconciler lets a burst of "faxes changed" gather before one list call (default). */
export const DEFAULT_RECONCILE_COALESCE_MS = 1_000;

/**
 * With `quietStatuses`, how long a send runs before FaxStatus shows `Sending`; with `quietQueued`,
 * how long a message is queued before FaxStatus shows `Queued`.
 */
export const SLOW_SEND_MS = 5_000;

export interface ReconcileWorkflowInput {
  credentialKey: string;
  /** Default DEFAULT_RECONCILE_COALESCE_MS. */
  coalesceMs?: number;
  /** Set by continue-as-new when a reconcile was still due. */
  pendingIds?: string[];
  /** Set by continue-as-new: follow-up rounds each pending id already had (so none is carried for ever). */
  followUps?: Record<string, number>;
  /** Rounds before continuing as new (default 200; tests shrink it). */
  roundsPerRun?: number;
}

/** A tenant reconnected: jobs waiting for this connection continue at once. */
export interface ConnectionRestoredSignal {
  connectionId: string;
}

/** The connection's status webhooks stopped (its subscription vanished, or faxes went unannounced). */
export interface WebhooksDownSignal {
  connectionId: string;
  /** Why, in one phrase (e.g. "the subscription is Suspended"). */
  reason: string;
}

export interface FaxesChangedSignal {
  newMessageIds?: string[];
}
