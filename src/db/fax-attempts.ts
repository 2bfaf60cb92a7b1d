import type { Db, FaxAttempt } from './schema';

/**
 * Opens attempt `attemptNo` of a job, or returns the row a previous (crashed or retried)
 * execution of the same send already opened: its `started_at` bounds the search for a fax that
 * may have been accepted without us hearing back.
 */
export async function openFaxAttempt(
  db: Db,
  jobId: string,
  attemptNo: number,
): Promise<{ attempt: FaxAttempt; reopened: boolean }> {
  const inserted = await db
    .insertInto('fax_attempts')
    .values({ job_id: jobId, attempt_no: attemptNo, status: 'Sending', started_at: new Date() })
    .onConflict((oc) => oc.columns(['job_id', 'attempt_no']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { attempt: inserted, reopened: false };
  const existing = await db
    .selectFrom('fax_attempts')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('attempt_no', '=', attemptNo)
    .executeTakeFirstOrThrow();
  return { attempt: existing, reopened: true };
}

export async function updateFaxAttempt(
  db: Db,
  jobId: string,
  attemptNo: number,
  change: {
    status: string;
    messageId?: string;
    faxErrorCode?: string | null;
    errorCode?: string | null;
    errorMessage?: string | null;
    finished?: boolean;
    startedAt?: Date;
  },
): Promise<void> {
  await db
    .updateTable('fax_attempts')
    .set({
      status: change.status,
      ...(change.messageId !== undefined && { message_id: change.messageId }),
      ...(change.faxErrorCode !== undefined && { fax_error_code: change.faxErrorCode }),
      ...(change.errorCode !== undefined && { error_code: change.errorCode }),
      ...(change.errorMessage !== undefined && { error_message: change.errorMessage }),
      ...(change.finished && { finished_at: new Date() }),
      ...(change.startedAt && { started_at: change.startedAt }),
    })
    .where('job_id', '=', jobId)
    .where('attempt_no', '=', attemptNo)
    .execute();
}

export async function listFaxAttempts(db: Db, jobId: string): Promise<FaxAttempt[]> {
  return db
    .selectFrom('fax_attempts')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('attempt_no')
    .execute();
}

/** Message ids already claimed by some attempt: an adopted fax must not be claimed twice. */
export async function findAttemptByMessageId(db: Db, messageId: string): Promise<FaxAttempt | undefined> {
  return db.selectFrom('fax_attempts').selectAll().where('message_id', '=', messageId).executeTakeFirst();
}

/** Attempt statuses a later RingCentral status can still move forward. */
const IN_FLIGHT = ['Sending', 'Queued', 'Sent'];

/** Every attempt of an unfinished job of this credential whose fax may still change status. */
export async function listInFlightAttempts(db: Db, credentialKey: string) {
  return db
    .selectFrom('fax_attempts as a')
    .innerJoin('fax_jobs as j', 'j.id', 'a.job_id')
    .select(['a.message_id', 'a.status', 'a.started_at', 'j.workflow_id', 'j.recipient'])
    .where('j.credential_key', '=', credentialKey)
    .where('a.status', 'in', IN_FLIGHT)
    .where('j.completed_at', 'is', null)
    .execute();
}
