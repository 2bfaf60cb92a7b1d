import type { V1Fax, V1FaxAttempt } from '../contracts/v1-api';
import type { FaxAttempt, FaxJob } from '../db/schema';
import { isFinalStatus, type FaxJobStatus } from '../domain/fax-status';

/** A job row as stored in an outbox payload (JSON: dates are ISO strings). */
export type JobSnapshot = Omit<FaxJob, 'created_at' | 'updated_at' | 'completed_at' | 'send_at'> & {
  created_at: Date | string;
  updated_at: Date | string;
  completed_at: Date | string | null;
  send_at: Date | string | null;
};

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** What the API recorded at submission (absent for jobs submitted through Temporal directly). */
export interface SubmissionFields {
  metadata: Record<string, string>;
  recipient_name: string | null;
  broadcast_id: string | null;
}

/**
 * The job as `GET /v1/faxes/:id` shows it (without the workflow's live state), from what events
 * and reports can see: the row as the change left it, its attempts and the API's submission.
 */
export function toV1Fax(job: JobSnapshot, attempts: FaxAttempt[], submission?: SubmissionFields): V1Fax {
  const tenantId = job.tenant_id ?? 'default';
  // Rows from before tenant-scoped ids carry no job_key in old outbox payloads: their id was the key.
  const key = job.job_key ?? job.id;
  const tilde = key.lastIndexOf('~');
  const self = `/v1/faxes/${encodeURIComponent(key)}`;
  const status = job.status as FaxJobStatus;
  const final = job.completed_at !== null || isFinalStatus(status);
  const sendAt = iso(job.send_at);
  return {
    object: 'fax',
    id: key,
    tenantId,
    broadcastId: submission?.broadcast_id ?? (tilde > 0 ? key.slice(0, tilde) : null),
    status,
    final,
    to: job.recipient,
    recipientName: submission?.recipient_name ?? null,
    pages: job.pages,
    documents: (job.documents ?? []).map((d) => ({
      filename: d.filename,
      contentType: d.contentType,
      sizeBytes: d.size,
      sha256: d.sha256,
      pages: null,
    })),
    attempts: attempts.map(toV1Attempt),
    // As GET shows it without live state: what comes next by status, its time where the row knows it.
    nextAction: final ? null : nextActionByStatus(status, sendAt),
    sendAt,
    error: job.error_code ? { code: job.error_code, message: job.error_message ?? '' } : null,
    metadata: submission?.metadata ?? {},
    createdAt: iso(job.created_at)!,
    updatedAt: iso(job.updated_at)!,
    completedAt: iso(job.completed_at),
    links: { self, events: `${self}/events`, report: `${self}/report.pdf` },
  };
}

export function toV1Attempt(a: FaxAttempt): V1FaxAttempt {
  return {
    attempt: a.attempt_no,
    status: a.status,
    messageId: a.message_id,
    faxErrorCode: a.fax_error_code,
    errorCode: a.error_code,
    startedAt: a.started_at.toISOString(),
    finishedAt: a.finished_at ? a.finished_at.toISOString() : null,
  };
}

/** What comes next for a job that is not final, by its status alone (no live workflow state). */
export function nextActionByStatus(
  status: FaxJobStatus | 'WaitingForConnection',
  sendAt: string | null,
): V1Fax['nextAction'] {
  switch (status) {
    case 'Accepted':
    case 'Scheduled':
      return { kind: 'send', at: sendAt };
    case 'WaitingToRedial':
      return { kind: 'redial', at: null };
    case 'WaitingForConnection':
      return { kind: 'wait-for-connection', at: null };
    default:
      return { kind: 'poll', at: null };
  }
}
