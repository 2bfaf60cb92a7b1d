import { sql } from 'kysely';
import type { Db, FaxAttempt } from './schema';

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
    /** The send provably did not happen: nobody needs to wait out its lease. */
    releaseLease?: boolean;
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
      ...(change.releaseLease && { lease_token: null, lease_until: null }),
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

/** Every attempt of an unfinished job of this connection whose fax may still change status. */
export async function listInFlightAttempts(db: Db, connectionId: string) {
  return db
    .selectFrom('fax_attempts as a')
    .innerJoin('fax_jobs as j', 'j.id', 'a.job_id')
    .select(['a.message_id', 'a.status', 'a.started_at', 'j.workflow_id', 'j.recipient'])
    .where('j.connection_id', '=', connectionId)
    .where('a.status', 'in', IN_FLIGHT)
    .where('j.completed_at', 'is', null)
    .execute();
}

/** The shortest wait behind another job's live send to the same number. */
const SAME_NUMBER_RECHECK_MS = 1_000;

/** What a send execution may do once it asked for the attempt's lease. */
export type SendLease =
  /** An earlier execution sent and recorded it. */
  | { kind: 'recorded'; messageId: string }
  /** Someone else may be sending (this attempt's earlier execution, or another job to the same number). */
  | { kind: 'wait'; ms: number; reason: string }
  /**
   * This execution holds the lease. `mayHaveSent`: an earlier execution held it and never recorded
   * an outcome, so RingCentral must be listed from `startedAt` before anything is sent.
   */
  | { kind: 'acquired'; mayHaveSent: boolean; startedAt: Date };

export interface SendLeaseRequest {
  jobId: string;
  attemptNo: number;
  credentialKey: string;
  recipient: string;
  /** This execution's identity: only its holder renews the lease or records the message id. */
  token: string;
  leaseMs: number;
  /** After a lease ends, how long a fax it uploaded may take to show up in RingCentral's list. */
  settleMs: number;
  /** A `Sending` attempt of another job whose lease ended this long ago no longer blocks the number. */
  abandonedMs: number;
}

export interface SendClaimRequest extends SendLeaseRequest {
  /** The job row must be this workflow's run (absent: tasks from before runs were passed). */
  owner?: { workflowId: string | undefined; runId: string };
  /** False: open the attempt (or find it recorded) but take no lease, e.g. the connection failed. */
  lease: boolean;
}

/** What a send execution learns from its claim. */
export type SendClaim =
  | SendLease
  /** The job row is missing (`row` undefined) or belongs to another workflow or run: nothing was written. */
  | { kind: 'notOwn'; row: { workflow_id: string; workflow_run_id: string | null } | undefined }
  /** The attempt is open (or was already), unrecorded; no lease was asked for. */
  | { kind: 'opened' };

interface ClaimRow {
  outcome: 'not_own' | 'recorded' | 'opened' | 'own_wait' | 'same_number' | 'acquired';
  owner_workflow_id: string | null;
  owner_run_id: string | null;
  message_id: string | null;
  now: Date;
  lease_until: Date | null;
  started_at: Date | null;
  may_have_sent: boolean | null;
  other_job_id: string | null;
  other_attempt_no: number | null;
  other_lease_until: Date | null;
  other_started_at: Date | null;
}

/**
 * Checks the job is this run's, opens the attempt (or finds the row a crashed or retried execution
 * of the same send opened: its `started_at` bounds the search for a fax that may have been accepted
 * without us hearing back) and takes its send lease, in one round trip (`faxflow_claim_send`,
 * migration 2026-11-27T1600). The lease is serialised per (credential, recipient) by a
 * transaction-scoped advisory lock, so at most one attempt to a number is unresolved at a time: a
 * cut-off send can then only be this attempt's own. Times are the database's, the one clock every
 * worker shares.
 */
export async function claimSend(db: Db, req: SendClaimRequest): Promise<SendClaim> {
  const result = await sql<ClaimRow>`select * from faxflow_claim_send(
    ${req.jobId}, ${req.attemptNo}::integer,
    ${req.owner !== undefined}, ${req.owner?.workflowId ?? null}::text, ${req.owner?.runId ?? null}::text,
    ${req.lease}, ${req.credentialKey}, ${req.recipient}, ${req.token},
    ${req.leaseMs}::double precision, ${req.settleMs}::double precision, ${req.abandonedMs}::double precision
  )`.execute(db);
  const row = result.rows[0]!;
  const now = row.now.getTime();
  switch (row.outcome) {
    case 'not_own':
      return {
        kind: 'notOwn',
        row:
          row.owner_workflow_id === null
            ? undefined
            : { workflow_id: row.owner_workflow_id, workflow_run_id: row.owner_run_id },
      };
    case 'recorded':
      return { kind: 'recorded', messageId: row.message_id! };
    case 'opened':
      return { kind: 'opened' };
    case 'own_wait':
      return {
        kind: 'wait',
        ms: row.lease_until!.getTime() + req.settleMs - now,
        reason: 'an earlier execution of this send may still be uploading',
      };
    case 'same_number': {
      const leaseUntil = row.other_lease_until;
      const ends = (leaseUntil?.getTime() ?? now) + req.settleMs - now;
      // Its lease still held: that send is under way and mostly resolves within seconds (recorded,
      // or refused and NotSent), long before its lease and settle delay would run out. Look again
      // after half as long as it has been going (at least a second): a queue of faxes to one number
      // follows its sends closely, and a long upload costs only a few looks (a dozen for 2 min). A
      // lease that ended unresolved (a cut-off send) still makes us wait until its upload may be listed.
      const live = leaseUntil !== null && leaseUntil.getTime() > now;
      const ms = live
        ? Math.min(ends, Math.max(SAME_NUMBER_RECHECK_MS, (now - row.other_started_at!.getTime()) / 2))
        : Math.max(2_000, ends);
      return {
        kind: 'wait',
        ms,
        reason: `job ${row.other_job_id} (attempt ${row.other_attempt_no}) has an unresolved send to the same number`,
      };
    }
    case 'acquired':
      return { kind: 'acquired', mayHaveSent: row.may_have_sent === true, startedAt: row.started_at! };
  }
}

/** Extends the holder's lease; false when it was lost (another execution took it, or it recorded). */
export async function renewSendLease(
  db: Db,
  jobId: string,
  attemptNo: number,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable('fax_attempts')
    .set({ lease_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where('job_id', '=', jobId)
    .where('attempt_no', '=', attemptNo)
    .where('lease_token', '=', token)
    .where('message_id', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The holder stopped sending (its request ended or was aborted): the settle delay starts now. */
export async function endSendLease(db: Db, jobId: string, attemptNo: number, token: string): Promise<void> {
  await db
    .updateTable('fax_attempts')
    .set({ lease_until: sql<Date>`least(lease_until, now())` })
    .where('job_id', '=', jobId)
    .where('attempt_no', '=', attemptNo)
    .where('lease_token', '=', token)
    .execute();
}

/**
 * Records the attempt's message id, fenced: only the lease holder, and only while no message id is
 * recorded, so a late execution cannot overwrite what a retry recorded. False when fenced out.
 */
export async function recordSentAttempt(
  db: Db,
  jobId: string,
  attemptNo: number,
  token: string,
  message: { id: string; status: string },
): Promise<boolean> {
  const result = await db
    .updateTable('fax_attempts')
    .set({ status: message.status, message_id: message.id, lease_until: sql<Date>`now()` })
    .where('job_id', '=', jobId)
    .where('attempt_no', '=', attemptNo)
    .where('lease_token', '=', token)
    .where('message_id', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Attempt statuses each RingCentral status may replace: statuses move forward only. */
export const MAY_REPLACE: Record<string, string[]> = {
  Queued: ['Sending'],
  Sent: ['Sending', 'Queued'],
  Delivered: ['Sending', 'Queued', 'Sent'],
  DeliveryFailed: ['Sending', 'Queued', 'Sent'],
  SendingFailed: ['Sending', 'Queued', 'Sent'],
};

/**
 * Moves an attempt to what RingCentral reported, only forward and only for the attempt's own
 * message, whatever the caller believed: a stale execution cannot move it back. True when it moved.
 */
export async function advanceFaxAttempt(
  db: Db,
  jobId: string,
  attemptNo: number,
  messageId: string,
  change: { status: string; faxErrorCode?: string | null; finished?: boolean },
): Promise<boolean> {
  const from = MAY_REPLACE[change.status];
  if (!from) return false;
  const result = await db
    .updateTable('fax_attempts')
    .set({
      status: change.status,
      ...(change.faxErrorCode !== undefined && { fax_error_code: change.faxErrorCode }),
      ...(change.finished && { finished_at: new Date() }),
    })
    .where('job_id', '=', jobId)
    .where('attempt_no', '=', attemptNo)
    .where('message_id', '=', messageId)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
