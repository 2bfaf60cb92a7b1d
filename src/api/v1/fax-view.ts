import type { V1Fax, V1FaxEvent } from '../../contracts/v1-api';
import type { FaxWorkflowState } from '../../contracts/workflow-types';
import { isFinalStatus, type FaxJobStatus } from '../../domain/fax-status';
import type { Db, FaxAttempt, FaxEvent } from '../../db/schema';
import { findV1Job, listV1Attempts, type V1JobRecord } from '../../db/v1-faxes';
import { nextActionByStatus } from '../../events/fax-view';
import type { DocumentRef } from '../../storage/document-store';

export function faxLinks(id: string): V1Fax['links'] {
  const self = `/v1/faxes/${encodeURIComponent(id)}`;
  return { self, events: `${self}/events`, report: `${self}/report.pdf` };
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

function nextActionOf(
  status: V1Fax['status'],
  final: boolean,
  sendAt: string | null,
  live: FaxWorkflowState | undefined,
): V1Fax['nextAction'] {
  if (final) return null;
  if (live?.next) {
    const a = live.next.action.toLowerCase();
    const kind = a.includes('redial')
      ? 'redial'
      : a.includes('send')
        ? 'send'
        : a.includes('connection')
          ? 'wait-for-connection'
          : 'poll';
    return { kind, at: live.next.at };
  }
  return nextActionByStatus(status, sendAt);
}

/**
 * A job as the v1 API shows it (and as `fax.*` events carry it), from its Postgres rows and, when
 * given, the workflow's live state (which knows the next action's time).
 */
export function toV1Fax(record: V1JobRecord, attempts: FaxAttempt[], live?: FaxWorkflowState): V1Fax {
  const { job, submission } = record;
  const status = (job?.status ?? 'Accepted') as FaxJobStatus | 'WaitingForConnection';
  const final = Boolean(job?.completed_at) || (status !== 'WaitingForConnection' && isFinalStatus(status));
  const documents: DocumentRef[] = job?.documents ?? submission?.documents ?? [];
  const sendAt = iso(job?.send_at ?? submission?.send_at);
  const createdAt = (submission?.created_at ?? job?.created_at ?? new Date()).toISOString();
  return {
    object: 'fax',
    id: record.id,
    tenantId: record.tenantId,
    broadcastId: submission?.broadcast_id ?? null,
    status,
    final,
    to: job?.recipient ?? submission?.recipient ?? '',
    recipientName: submission?.recipient_name ?? null,
    pages: job?.pages ?? null,
    documents: documents.map((d) => ({
      filename: d.filename,
      contentType: d.contentType,
      sizeBytes: d.size,
      sha256: d.sha256,
      pages: null,
    })),
    attempts: attempts.map((a) => ({
      attempt: a.attempt_no,
      status: a.status,
      messageId: a.message_id,
      faxErrorCode: a.fax_error_code,
      errorCode: a.error_code,
      startedAt: a.started_at.toISOString(),
      finishedAt: iso(a.finished_at),
    })),
    nextAction: nextActionOf(status, final, sendAt, live),
    sendAt,
    error: job?.error_code ? { code: job.error_code, message: job.error_message ?? '' } : null,
    metadata: submission?.metadata ?? {},
    createdAt,
    updatedAt: job?.updated_at.toISOString() ?? createdAt,
    completedAt: iso(job?.completed_at),
    links: faxLinks(record.id),
  };
}

/**
 * The job `jobId` of `tenantId` as `GET /v1/faxes/:id` returns it (without live state), or
 * undefined when the tenant has no such job. For the event webhooks and the report.
 */
export async function loadV1Fax(db: Db, tenantId: string, jobId: string): Promise<V1Fax | undefined> {
  const record = await findV1Job(db, tenantId, jobId);
  if (!record) return undefined;
  return toV1Fax(record, await listV1Attempts(db, record));
}

export function toV1Event(e: FaxEvent): V1FaxEvent {
  return {
    id: e.id,
    at: e.observed_at.toISOString(),
    status: e.status,
    source: e.source,
    attempt: e.attempt_no,
    messageId: e.message_id,
    faxErrorCode: e.fax_error_code,
  };
}
