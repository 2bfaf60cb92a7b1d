import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { faxSendOptions, type FaxSendOptions } from '../contracts/fax-send-options';
import { claimSend, findAttemptByMessageId, recordSentAttempt, updateFaxAttempt } from '../db/fax-attempts';
import { insertFaxEvent } from '../db/fax-events';
import { recordSentMessage } from '../db/status-writes';
import { updateFaxJobStatus } from '../db/fax-jobs';
import type { RingCentralMessageStatus } from '../domain/fax-status';
import { RingCentralApiError } from '../ringcentral/errors';
import type { FaxMessage, RingCentralClient } from '../ringcentral/types';
import type { DocumentRef } from '../storage/document-store';
import { connectionKey, ringCentralFor, type ConnectionArgs } from './connection';
import type { ActivityDeps } from './deps';
import { jobRowId } from './job-row';
import { jittered, provesNotSent, toApplicationFailure } from './failures';
import { judgeCandidates, type AdoptionEvidence } from './send-adoption';
import { DEFAULT_SEND_LEASE, keepSendLease } from './send-lease';
import { DEFAULT_MAX_CONCURRENT_UPLOADS, UploadSlots } from './send-slots';
import { healthy } from './webhook-health';

export interface SendFaxArgs extends FaxSendOptions, ConnectionArgs {
  /** The job's row id: its workflow id (see job-row.ts). */
  jobId: string;
  attemptNo: number;
  recipient: string;
  recipientName?: string;
  documents: DocumentRef[];
  sendTime?: string;
  /**
   * The first run of the sending workflow (continued runs share it). The job row must have been
   * registered by that run; absent in tasks scheduled before the workflow passed it.
   */
  workflowRunId?: string;
}

export interface SendFaxResult {
  messageId: string;
  status: RingCentralMessageStatus;
  /** True when an earlier, unanswered execution had in fact sent the fax and we took its id. */
  adopted: boolean;
  /** Status webhooks are flowing for this credential: the workflow may poll rarely. */
  webhooksHealthy?: boolean;
}

/**
 * Sends one attempt of a fax, at most once.
 *
 * RingCentral has no idempotency key, and Temporal retries an activity whose worker died or whose
 * request timed out. The attempt row is the witness, and its lease says who may send:
 * - an execution sends only while it holds the lease (renewed with each heartbeat; the upload is
 *   aborted if it is lost), and records the message id only while it still holds it;
 * - a retry that finds another execution's lease waits it out plus a settle delay (a durable
 *   `nextRetryDelay`), then lists RingCentral and adopts the fax that execution sent, if any;
 * - at most one attempt per (credential, recipient) is unresolved at a time, so a cut-off fax to a
 *   number can only be the waiting attempt's own; what still cannot be told apart goes to a person
 *   (`NeedsReview`) instead of being guessed.
 */
export function createSendFax(deps: ActivityDeps) {
  const { db, documents, logger } = deps;
  const timings = { ...DEFAULT_SEND_LEASE, ...deps.sendLease };
  // Bounds the memory of concurrent sends (issue 8 #7): a send waiting for its Heavy slot or
  // uploading holds its whole document set.
  const uploadSlots = new UploadSlots(deps.maxConcurrentUploads ?? DEFAULT_MAX_CONCURRENT_UPLOADS);
  return async function sendFax(input: SendFaxArgs): Promise<SendFaxResult> {
    const args = { ...input, jobId: jobRowId(input.jobId) };
    const ctx = Context.current();
    const token = randomUUID();
    const log = { jobId: args.jobId, attemptNo: args.attemptNo };
    const connection = connectionKey(deps, args.connectionId);
    // The client first, its failure kept: a connection that needs reconnecting fails the send
    // with nothing sent or held (the claim then takes no lease), but only once the claim has shown
    // the job is this run's and not already recorded, as before the claim was one round trip.
    let ringcentral: RingCentralClient | undefined;
    let connectionFailure: unknown;
    try {
      ringcentral = await ringCentralFor(deps, args.connectionId);
    } catch (err) {
      connectionFailure = err;
    }
    const lease = await claimSend(db, {
      jobId: args.jobId,
      attemptNo: args.attemptNo,
      credentialKey: connection,
      recipient: args.recipient,
      token,
      ...timings,
      lease: ringcentral !== undefined,
      ...(args.workflowRunId !== undefined && {
        owner: { workflowId: ctx.info.workflowExecution?.workflowId, runId: args.workflowRunId },
      }),
    });
    if (lease.kind === 'notOwn') throw notOwnJob(args, ctx.info.workflowExecution?.workflowId, lease.row);
    if (lease.kind === 'recorded') return recorded(lease.messageId, connection);
    if (lease.kind === 'opened' || ringcentral === undefined) throw connectionFailure;
    if (lease.kind === 'wait') {
      logger.info({ ...log, waitMs: lease.ms }, `send waits: ${lease.reason}`);
      throw ApplicationFailure.create({
        type: 'SendWaiting',
        message: `Waiting ${Math.ceil(lease.ms / 1000)} s: ${lease.reason}.`,
        nextRetryDelay: jittered(lease.ms),
      });
    }

    const keeper = keepSendLease({
      db,
      jobId: args.jobId,
      attemptNo: args.attemptNo,
      token,
      timings,
      heartbeat: () => ctx.heartbeat(),
      logger,
    });
    try {
      if (lease.mayHaveSent) {
        const adopted = await adoptCutOffSend(ringcentral, args, lease.startedAt);
        if (adopted) {
          logger.warn({ ...log, messageId: adopted.id }, 'adopted a fax sent by an unanswered attempt');
          const result = await record(args, token, adopted, true, connection);
          keeper.recorded();
          return result;
        }
      }
      const signal = AbortSignal.any([ctx.cancellationSignal, keeper.signal]);
      let releaseSlot: () => void;
      try {
        releaseSlot = await uploadSlots.acquire(signal);
      } catch (err) {
        keeper.stop();
        throw await sendFailed(args, err);
      }
      let message: FaxMessage;
      try {
        const content = await Promise.all(
          args.documents.map(async (d) => ({
            filename: d.filename,
            contentType: d.contentType,
            content: await documents.get(d.sha256),
          })),
        );
        try {
          message = await ringcentral.sendFax(
            {
              to: [{ phoneNumber: args.recipient, ...(args.recipientName && { name: args.recipientName }) }],
              documents: content,
              ...faxSendOptions(args),
              ...(args.sendTime && { sendTime: args.sendTime }),
            },
            { signal, heartbeat: () => ctx.heartbeat() },
          );
        } catch (err) {
          keeper.stop();
          throw await sendFailed(args, err);
        }
      } finally {
        releaseSlot();
      }
      const result = await record(args, token, message, false, connection);
      keeper.recorded();
      return result;
    } finally {
      await keeper.end();
    }
  };

  /**
   * The job row, its attempts and their message ids must be this workflow's: a job id that comes
   * back in another execution (a workflow id reused after a terminated run, a legacy broadcast child
   * named like a single fax) would otherwise take over the other run's attempt and report its fax as
   * its own, sending nothing (issue 8 #9). prepareFaxJob refuses a finished row of another run; this
   * also covers one still open.
   */
  function notOwnJob(
    args: SendFaxArgs,
    workflowId: string | undefined,
    row: { workflow_id: string; workflow_run_id: string | null } | undefined,
  ): ApplicationFailure {
    const owner =
      row === undefined
        ? 'no job row'
        : workflowId !== undefined && row.workflow_id !== workflowId
          ? `workflow ${row.workflow_id}`
          : `run ${row.workflow_run_id} of ${row.workflow_id}`;
    return ApplicationFailure.create({
      type: 'JobOwnedByAnotherRun',
      message:
        row === undefined
          ? `Job ${args.jobId} has no row; it was never registered, so nothing is sent.`
          : `Job ${args.jobId} belongs to ${owner}, not to this run (${args.workflowRunId}); nothing is sent. Submit the fax again with another idempotency key.`,
      nonRetryable: true,
    });
  }

  async function recorded(messageId: string, connection: string): Promise<SendFaxResult> {
    // A previous execution sent and recorded it, then died before reporting back to Temporal.
    return { messageId, status: 'Queued', adopted: true, webhooksHealthy: await healthy(deps, connection) };
  }

  /** Marks what the error proves, makes auth trouble visible on the job, and returns what to throw. */
  async function sendFailed(args: SendFaxArgs, err: unknown): Promise<unknown> {
    const failure = toApplicationFailure(err);
    const final = failure instanceof ApplicationFailure && failure.nonRetryable === true;
    const type = failure instanceof ApplicationFailure ? failure.type : undefined;
    const errorMessage = err instanceof Error ? err.message : String(err);
    const notSent = provesNotSent(err);
    if (notSent) {
      await updateFaxAttempt(db, args.jobId, args.attemptNo, {
        status: final ? 'Rejected' : 'NotSent',
        errorCode: err instanceof RingCentralApiError ? err.errorCode : (type ?? null),
        errorMessage,
        finished: final,
        releaseLease: true,
      });
    }
    if (type === 'RingCentralAuthUnavailable') {
      logger.warn(
        { jobId: args.jobId, attemptNo: args.attemptNo, err: errorMessage },
        'send retried: RingCentral login unavailable',
      );
      // Still Sending: the job shows why it has not moved, and the retry clears nothing it needs.
      await updateFaxJobStatus(db, args.jobId, {
        status: 'Sending',
        errorCode: 'RingCentralAuthUnavailable',
        errorMessage: `RingCentral login unavailable, retrying: ${errorMessage}`,
      }).catch(() => undefined);
    }
    if (!notSent && !final && failure instanceof ApplicationFailure) return retryAfterSettling(failure);
    return failure;
  }

  /**
   * A send that may have reached RingCentral keeps its number until its retry lists and adopts it
   * or sends again, and that retry can act once the settle delay has passed (the lease ended as
   * this execution gave up). So it comes then, not after Temporal's backoff: that backoff grows
   * with the activity's attempts, and those also count the send's waits for its number, so after
   * a queue it was a minute at the cap while every other job to the number waited (issue 13,
   * chaos all-faults). A longer delay the server asked for (a 503's Retry-After) still wins.
   */
  function retryAfterSettling(failure: ApplicationFailure): ApplicationFailure {
    const asked = typeof failure.nextRetryDelay === 'number' ? failure.nextRetryDelay : 0;
    return ApplicationFailure.create({
      type: failure.type ?? undefined,
      message: failure.message,
      details: failure.details ?? undefined,
      nextRetryDelay: Math.max(asked, jittered(timings.settleMs)),
      ...(failure.cause && { cause: failure.cause }),
    });
  }

  /**
   * Lists what RingCentral holds since the attempt's window opened and takes the one fax this
   * attempt sent, if it can be told apart; parks the job for review when it cannot.
   */
  async function adoptCutOffSend(
    ringcentral: RingCentralClient,
    args: SendFaxArgs,
    startedAt: Date,
  ): Promise<FaxMessage | undefined> {
    const faxes = await ringcentral
      .listOutboundFaxes({ dateFrom: new Date(startedAt.getTime() - 60_000) })
      .catch((err: unknown) => {
        throw toApplicationFailure(err);
      });
    const unclaimed: FaxMessage[] = [];
    for (const fax of faxes) {
      if (!fax.to.some((t) => t.phoneNumber === args.recipient)) continue;
      if (!(await findAttemptByMessageId(db, fax.id))) unclaimed.push(fax);
    }
    const verdict = judgeCandidates(
      unclaimed,
      {
        recipient: args.recipient,
        windowFrom: startedAt,
        filenames: args.documents.map((d) => d.filename),
        pages: await validatedPages(args.jobId),
        coverIndex: args.coverIndex,
      },
      new Date(),
    );
    if (verdict.kind === 'none') return undefined;
    if (verdict.kind === 'adopt') return verdict.fax;
    await holdForReview(args, verdict.evidence);
    throw ApplicationFailure.create({
      type: 'NeedsReview',
      message: `${verdict.evidence.length} faxes to ${args.recipient} could each be this attempt's cut-off send; a person must decide.`,
      details: verdict.evidence,
      nonRetryable: true,
    });
  }

  async function validatedPages(jobId: string): Promise<number | undefined> {
    const row = await db
      .selectFrom('fax_events')
      .select('detail')
      .where('job_id', '=', jobId)
      .where('status', '=', 'Validated')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    const pages = (row?.detail as { pages?: unknown } | null | undefined)?.pages;
    return typeof pages === 'number' ? pages : undefined;
  }

  async function holdForReview(args: SendFaxArgs, evidence: AdoptionEvidence[]): Promise<void> {
    logger.error(
      { jobId: args.jobId, attemptNo: args.attemptNo, evidence },
      'cut-off send is ambiguous: held for review',
    );
    await db.transaction().execute(async (trx) => {
      await updateFaxAttempt(trx, args.jobId, args.attemptNo, {
        status: 'NeedsReview',
        errorCode: 'NEEDS_REVIEW',
        errorMessage: 'several faxes could be this attempt’s cut-off send',
        finished: true,
      });
      await insertFaxEvent(trx, {
        jobId: args.jobId,
        attemptNo: args.attemptNo,
        status: 'NeedsReview',
        source: 'send',
        detail: { candidates: evidence },
      });
    });
  }

  async function record(
    args: SendFaxArgs,
    token: string,
    message: FaxMessage,
    adopted: boolean,
    connection: string,
  ): Promise<SendFaxResult> {
    const detail = adopted ? { adopted: true } : null;
    // One statement (status-writes.ts); a tenant with webhook endpoints takes the transaction below.
    const fast = await recordSentMessage(db, {
      jobId: args.jobId,
      attemptNo: args.attemptNo,
      token,
      messageId: message.id,
      status: message.messageStatus,
      detail,
    });
    const won = fast?.won ?? (await recordSentInTransaction(args, token, message, detail));
    if (!won) {
      // Another execution took the lease meanwhile: what it records (or adopts: this fax) stands.
      logger.error(
        { jobId: args.jobId, attemptNo: args.attemptNo, messageId: message.id },
        'send lease lost before recording',
      );
      throw ApplicationFailure.create({
        type: 'SendLeaseLost',
        message: `Message ${message.id} was not recorded: another execution holds this attempt.`,
      });
    }
    return {
      messageId: message.id,
      status: message.messageStatus,
      adopted,
      webhooksHealthy: await healthy(deps, connection),
    };
  }

  /** `recordSentMessage` for a job whose tenant has webhook endpoints: the outbox row goes with it. */
  async function recordSentInTransaction(
    args: SendFaxArgs,
    token: string,
    message: FaxMessage,
    detail: Record<string, unknown> | null,
  ): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      if (
        !(await recordSentAttempt(trx, args.jobId, args.attemptNo, token, {
          id: message.id,
          status: message.messageStatus,
        }))
      )
        return false;
      await updateFaxJobStatus(trx, args.jobId, {
        status: 'Queued',
        messageId: message.id,
        attempts: args.attemptNo,
        errorCode: null,
        errorMessage: null,
      });
      await insertFaxEvent(trx, {
        jobId: args.jobId,
        attemptNo: args.attemptNo,
        messageId: message.id,
        status: message.messageStatus,
        source: 'send',
        detail,
      });
      return true;
    });
  }
}
