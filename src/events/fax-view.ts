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

/**
 * The job as `GET /v1/faxes/:id` shows it, from what events and reports can see (the row and its
 * attempts). Fields only the workflow knows (the next planned action) are null here.
 */
export function toV1Fax(job: JobSnapshot, attempts: FaxAttempt[]): V1Fax {
  const tenantId = job.tenant_id ?? 'default';
  // Rows from before tenant-scoped ids carry no job_key in old outbox payloads: their id was the key.
  const key = job.job_key ?? job.id;
  const tilde = key.lastIndexOf('~');
  const self = `/v1/faxes/${encodeURIComponent(key)}`;
  const status = job.status as FaxJobStatus;
  return {
    object: 'fax',
    id: key,
    tenantId,
    broadcastId: tilde > 0 ? key.slice(0, tilde) : null,
    status,
    final: job.completed_at !== null || isFinalStatus(status),
    to: job.recipient,
    recipientName: null,
    pages: job.pages,
    documents: (job.documents ?? []).map((d) => ({
      filename: d.filename,
      contentType: d.contentType,
      sizeBytes: d.size,
      sha256: d.sha256,
      pages: null,
    })),
    attempts: attempts.map(toV1Attempt),
    nextAction: null,
    sendAt: iso(job.send_at),
    error: job.error_code ? { code: job.error_code, message: job.error_message ?? '' } : null,
    metadata: {},
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
