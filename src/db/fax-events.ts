import type { Db, FaxEvent } from './schema';

export type FaxEventSource = 'workflow' | 'send' | 'poll' | 'webhook' | 'validation';

export async function insertFaxEvent(
  db: Db,
  event: {
    jobId: string;
    attemptNo?: number | null;
    messageId?: string | null;
    status: string;
    faxErrorCode?: string | null;
    source: FaxEventSource;
    detail?: Record<string, unknown> | null;
  },
): Promise<void> {
  await db
    .insertInto('fax_events')
    .values({
      job_id: event.jobId,
      attempt_no: event.attemptNo ?? null,
      message_id: event.messageId ?? null,
      status: event.status,
      fax_error_code: event.faxErrorCode ?? null,
      source: event.source,
      detail: event.detail ? JSON.stringify(event.detail) : null,
    })
    .execute();
}

export async function listFaxEvents(db: Db, jobId: string): Promise<FaxEvent[]> {
  return db.selectFrom('fax_events').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
}
