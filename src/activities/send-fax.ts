import { ApplicationFailure } from '@temporalio/common';
import { faxSendOptions, type FaxSendOptions } from '../contracts/fax-send-options';
import { findAttemptByMessageId, openFaxAttempt, updateFaxAttempt } from '../db/fax-attempts';
import { insertFaxEvent } from '../db/fax-events';
import { updateFaxJobStatus } from '../db/fax-jobs';
import type { RingCentralMessageStatus } from '../domain/fax-status';
import type { FaxMessage } from '../ringcentral/types';
import type { DocumentRef } from '../storage/document-store';
import type { ActivityDeps } from './deps';
import { healthy } from './webhook-health';
import { provesNotSent, toApplicationFailure } from './failures';
import { RingCentralApiError } from '../ringcentral/errors';

export interface SendFaxArgs extends FaxSendOptions {
  jobId: string;
  attemptNo: number;
  recipient: string;
  recipientName?: string;
  documents: DocumentRef[];
  sendTime?: string;
}

export interface SendFaxResult {
  messageId: string;
  status: RingCentralMessageStatus;
  /** True when an earlier, unanswered execution had in fact sent the fax and we took its id. */
  adopted: boolean;
  /** Status webhooks are flowing for this credential: the workflow may poll rarely. */
  webhooksHealthy?: boolean;
}

/** Clock skew allowed between our `started_at` and RingCentral's `creationTime`. */
const SKEW_MS = 2 * 60_000;

/**
 * Sends one attempt of a fax, at most once.
 *
 * RingCentral has no idempotency key, and Temporal retries an activity whose worker died or whose
 * request timed out. The attempt row is the witness: it is opened ('Sending') before the request
 * and marked 'NotSent' only when an error proves RingCentral refused it (4xx, 429, our own budget,
 * connection refused). A re-execution that finds the row still 'Sending' lists the outbound faxes
 * created since the attempt started and adopts one to the same recipient that no attempt has
 * claimed (a unique index on message_id makes the claim exclusive). Only when none exists does it
 * send again.
 */
export function createSendFax(deps: ActivityDeps) {
  const { db, ringcentral, documents, logger } = deps;
  return async function sendFax(args: SendFaxArgs): Promise<SendFaxResult> {
    const { attempt, reopened } = await openFaxAttempt(db, args.jobId, args.attemptNo);
    if (attempt.message_id) {
      // A previous execution sent and recorded it, then died before reporting back to Temporal.
      return {
        messageId: attempt.message_id,
        status: 'Queued',
        adopted: true,
        webhooksHealthy: await healthy(deps),
      };
    }

    // 'Sending' on a reopened row means an earlier execution may have reached RingCentral.
    if (reopened && attempt.status === 'Sending') {
      const found = await findUnclaimedFax(args.recipient, attempt.started_at);
      if (found) {
        logger.warn(
          { jobId: args.jobId, attemptNo: args.attemptNo, messageId: found.id },
          'adopted a fax sent by an unanswered attempt',
        );
        await record(args, found, true);
        return {
          messageId: found.id,
          status: found.messageStatus,
          adopted: true,
          webhooksHealthy: await healthy(deps),
        };
      }
    } else if (reopened) {
      // The earlier execution provably sent nothing: this send starts the search window afresh.
      await updateFaxAttempt(db, args.jobId, args.attemptNo, { status: 'Sending', startedAt: new Date() });
    }

    const content = await Promise.all(
      args.documents.map(async (d) => ({
        filename: d.filename,
        contentType: d.contentType,
        content: await documents.get(d.sha256),
      })),
    );
    let message: FaxMessage;
    try {
      message = await ringcentral.sendFax({
        to: [{ phoneNumber: args.recipient, ...(args.recipientName && { name: args.recipientName }) }],
        documents: content,
        ...faxSendOptions(args),
        ...(args.sendTime && { sendTime: args.sendTime }),
      });
    } catch (err) {
      const failure = toApplicationFailure(err);
      if (provesNotSent(err)) {
        const final = failure instanceof ApplicationFailure && failure.nonRetryable === true;
        await updateFaxAttempt(db, args.jobId, args.attemptNo, {
          status: final ? 'Rejected' : 'NotSent',
          errorCode:
            err instanceof RingCentralApiError
              ? err.errorCode
              : failure instanceof ApplicationFailure
                ? (failure.type ?? null)
                : null,
          errorMessage: err instanceof Error ? err.message : String(err),
          finished: final,
        });
      }
      throw failure;
    }
    await record(args, message, false);
    return {
      messageId: message.id,
      status: message.messageStatus,
      adopted: false,
      webhooksHealthy: await healthy(deps),
    };
  };

  async function findUnclaimedFax(recipient: string, startedAt: Date): Promise<FaxMessage | undefined> {
    const since = new Date(startedAt.getTime() - SKEW_MS);
    const faxes = await ringcentral.listOutboundFaxes({ dateFrom: since }).catch((err: unknown) => {
      throw toApplicationFailure(err);
    });
    // Oldest first: if several unclaimed faxes match, the earliest is the one this attempt sent.
    const candidates = faxes
      .filter((f) => f.to.some((t) => t.phoneNumber === recipient) && f.availability !== 'Purged')
      .sort((a, b) => a.creationTime.localeCompare(b.creationTime));
    for (const fax of candidates) {
      if (!(await findAttemptByMessageId(db, fax.id))) return fax;
    }
    return undefined;
  }

  async function record(args: SendFaxArgs, message: FaxMessage, adopted: boolean): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await updateFaxAttempt(trx, args.jobId, args.attemptNo, {
        status: message.messageStatus,
        messageId: message.id,
      });
      await updateFaxJobStatus(trx, args.jobId, {
        status: 'Queued',
        messageId: message.id,
        attempts: args.attemptNo,
      });
      await insertFaxEvent(trx, {
        jobId: args.jobId,
        attemptNo: args.attemptNo,
        messageId: message.id,
        status: message.messageStatus,
        source: 'send',
        detail: adopted ? { adopted: true } : null,
      });
    });
  }
}
