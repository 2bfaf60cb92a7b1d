import { sql, type RawBuilder } from 'kysely';
import { isFinalStatus } from '../domain/fax-status';
import { observeFinalFaxJob } from '../metrics/metrics';
import { MAY_REPLACE } from './fax-attempts';
import { jobStatusAssignments, type FaxJobStatusChange } from './fax-jobs';
import type { Db } from './schema';

/**
 * The per-fax status writes of the send path (issue 13), each as one statement instead of a
 * transaction of three to five: a data-modifying CTE is atomic on its own.
 *
 * They write only when the job's tenant has no enabled webhook endpoint (`noListener`), i.e. when
 * `updateFaxJobStatus` would write no outbox row: the outbox row's payload is the job row as the
 * TypeScript code serialises it, so jobs of tenants with endpoints keep the transactional path
 * (each function then writes nothing and answers `undefined`; the caller runs that path). The gate
 * is read in the statement's snapshot, as `updateFaxJobStatus` reads the listening event types in
 * its update.
 */
function noListener(jobId: string): RawBuilder<boolean> {
  return sql<boolean>`not exists (
    select 1 from fax_jobs gj join webhook_endpoints w on w.tenant_id = coalesce(gj.tenant_id, 'default')
    where gj.id = ${jobId} and w.status = 'enabled' and w.deleted_at is null and cardinality(w.events) > 0)`;
}

/** `updateFaxJobStatus`'s assignments (`jobStatusAssignments`), as SQL. */
function jobStatusSet(change: FaxJobStatusChange, now: Date): RawBuilder<unknown> {
  return sql.join(
    Object.entries(jobStatusAssignments(change, now)).map(
      ([column, value]) => sql`${sql.ref(column)} = ${value}`,
    ),
  );
}

const json = (detail: Record<string, unknown> | null | undefined) => (detail ? JSON.stringify(detail) : null);

/**
 * What `sendFax` records once RingCentral accepted its fax: the attempt's message id (fenced: only
 * the lease holder, only while none is recorded), the job `Queued` with it, and the `send` event.
 * `won` is false when fenced out (nothing written).
 */
export async function recordSentMessage(
  db: Db,
  sent: {
    jobId: string;
    attemptNo: number;
    token: string;
    messageId: string;
    status: string;
    detail: Record<string, unknown> | null;
  },
): Promise<{ won: boolean } | undefined> {
  const change: FaxJobStatusChange = {
    status: 'Queued',
    messageId: sent.messageId,
    attempts: sent.attemptNo,
    errorCode: null,
    errorMessage: null,
  };
  const { rows } = await sql<{ ok: boolean; won: boolean }>`
    with gate as (select ${noListener(sent.jobId)} as ok),
    attempt as (
      update fax_attempts set status = ${sent.status}, message_id = ${sent.messageId}, lease_until = now()
      where job_id = ${sent.jobId} and attempt_no = ${sent.attemptNo} and lease_token = ${sent.token}
        and message_id is null and (select ok from gate)
      returning job_id
    ),
    job as (
      update fax_jobs set ${jobStatusSet(change, new Date())}
      where id = ${sent.jobId} and completed_at is null and exists (select 1 from attempt)
      returning id
    ),
    event as (
      insert into fax_events (job_id, attempt_no, message_id, status, fax_error_code, source, detail)
      select ${sent.jobId}, ${sent.attemptNo}::integer, ${sent.messageId}, ${sent.status}, null, 'send',
        ${json(sent.detail)}::jsonb
      from attempt
      returning id
    )
    select (select ok from gate) as ok, exists (select 1 from attempt) as won`.execute(db);
  const row = rows[0]!;
  return row.ok ? { won: row.won } : undefined;
}

/**
 * A forward status RingCentral reported (`recordFaxObservation`): its event, the attempt moved only
 * forward and only for its own message, and the job following the attempt while in flight (Sent,
 * Queued). A status the job does not follow needs no gate: no job row is written.
 */
export async function recordObservation(
  db: Db,
  seen: {
    jobId: string;
    attemptNo: number;
    messageId: string;
    status: string;
    faxErrorCode: string | null;
    source: string;
    finished: boolean;
    pages?: number;
  },
): Promise<boolean> {
  const followed = seen.status === 'Sent' || seen.status === 'Queued';
  const from = MAY_REPLACE[seen.status];
  const now = new Date();
  const job = followed
    ? sql`, job as (
        update fax_jobs set ${jobStatusSet(
          {
            status: seen.status as 'Sent' | 'Queued',
            ...(seen.pages !== undefined && { pages: seen.pages }),
          },
          now,
        )}
        where id = ${seen.jobId} and completed_at is null and exists (select 1 from moved)
        returning id)`
    : sql``;
  const { rows } = await sql<{ ok: boolean }>`
    with gate as (select ${followed ? noListener(seen.jobId) : sql<boolean>`true`} as ok),
    event as (
      insert into fax_events (job_id, attempt_no, message_id, status, fax_error_code, source, detail)
      select ${seen.jobId}, ${seen.attemptNo}::integer, ${seen.messageId}, ${seen.status}, ${seen.faxErrorCode},
        ${seen.source}, null::jsonb
      where (select ok from gate)
      returning id
    ),
    moved as (
      update fax_attempts set status = ${seen.status}, fax_error_code = ${seen.faxErrorCode}
        ${seen.finished ? sql`, finished_at = ${now}` : sql``}
      where job_id = ${seen.jobId} and attempt_no = ${seen.attemptNo} and message_id = ${seen.messageId}
        and status = any(${from ?? []}::text[]) and (select ok from gate)
      returning id
    )${job}
    select (select ok from gate) as ok`.execute(db);
  return rows[0]!.ok;
}

/**
 * A decision of the workflow about the whole job (`recordJobStatus`): the job's new status unless
 * it is already final, and then its `workflow` event. `changed` is false when the job was final.
 */
export async function recordJobDecision(
  db: Db,
  jobId: string,
  change: FaxJobStatusChange,
  detail: Record<string, unknown> | null,
): Promise<{ changed: boolean } | undefined> {
  const now = new Date();
  const { rows } = await sql<{ ok: boolean; tenant_id: string | null; created_at: Date | null }>`
    with gate as (select ${noListener(jobId)} as ok),
    job as (
      update fax_jobs set ${jobStatusSet(change, now)}
      where id = ${jobId} and completed_at is null and (select ok from gate)
      returning tenant_id, created_at
    ),
    event as (
      insert into fax_events (job_id, attempt_no, message_id, status, fax_error_code, source, detail)
      select ${jobId}, null::integer, ${change.messageId ?? null}, ${change.status}, null, 'workflow', ${json(detail)}::jsonb
      from job
      returning id
    )
    select (select ok from gate) as ok, job.tenant_id, job.created_at from gate left join job on true`.execute(
    db,
  );
  const row = rows[0]!;
  if (!row.ok) return undefined;
  const changed = row.created_at !== null;
  // As updateFaxJobStatus does: every final status is counted once per job, at its write.
  if (changed && isFinalStatus(change.status)) {
    observeFinalFaxJob({
      status: change.status,
      tenantId: row.tenant_id,
      submittedAt: row.created_at!,
      completedAt: now,
    });
  }
  return { changed };
}
