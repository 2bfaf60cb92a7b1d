import { updateFaxAttempt } from '../db/fax-attempts';
import { insertFaxEvent, type FaxEventSource } from '../db/fax-events';
import { updateFaxJobStatus } from '../db/fax-jobs';
import { isForwardMove, isMessageFinal, type RingCentralMessageStatus } from '../domain/fax-status';
import type { FaxStatusObservation } from '../contracts/workflow-types';
import type { FaxMessage } from '../ringcentral/types';
import type { ActivityDeps } from './deps';
import { healthy } from './webhook-health';
import { toApplicationFailure } from './failures';

export interface CheckFaxStatusArgs {
  jobId: string;
  attemptNo: number;
  messageId: string;
  recipient: string;
  /** What the workflow already knows; only a forward move is recorded. */
  known?: RingCentralMessageStatus;
}

/** Reads one fax's status from RingCentral's message store and records it if it moved forward. */
export function createCheckFaxStatus(deps: ActivityDeps) {
  const recordObservation = createRecordObservation(deps);
  return async function checkFaxStatus(args: CheckFaxStatusArgs): Promise<FaxStatusObservation> {
    let message: FaxMessage;
    try {
      message = await deps.ringcentral.getMessage(args.messageId);
    } catch (err) {
      throw toApplicationFailure(err);
    }
    const observation = observe(message, args.recipient);
    await recordObservation(args, observation, 'poll');
    return { ...observation, webhooksHealthy: await healthy(deps) };
  };
}

/** The recipient's own status wins over the message's aggregate (one fax, one recipient here). */
export function observe(message: FaxMessage, recipient: string): FaxStatusObservation {
  const mine = message.to.find((t) => t.phoneNumber === recipient) ?? message.to[0];
  return {
    status: mine?.messageStatus ?? message.messageStatus,
    ...(mine?.faxErrorCode && { faxErrorCode: mine.faxErrorCode }),
    ...(message.faxPageCount > 0 && { pages: message.faxPageCount }),
  };
}

export function createRecordObservation({ db }: ActivityDeps) {
  return async function recordObservation(
    args: CheckFaxStatusArgs,
    observation: FaxStatusObservation,
    source: FaxEventSource,
  ): Promise<void> {
    if (!isForwardMove(args.known, observation.status)) return;
    await db.transaction().execute(async (trx) => {
      await insertFaxEvent(trx, {
        jobId: args.jobId,
        attemptNo: args.attemptNo,
        messageId: args.messageId,
        status: observation.status,
        faxErrorCode: observation.faxErrorCode ?? null,
        source,
      });
      await updateFaxAttempt(trx, args.jobId, args.attemptNo, {
        status: observation.status,
        faxErrorCode: observation.faxErrorCode ?? null,
        finished: isMessageFinal(observation.status),
      });
      // Job-level outcomes (Delivered, redial, Failed) are the workflow's decision; here the job
      // only follows the attempt while it is in flight.
      if (observation.status === 'Sent' || observation.status === 'Queued') {
        await updateFaxJobStatus(trx, args.jobId, {
          status: observation.status,
          ...(observation.pages !== undefined && { pages: observation.pages }),
        });
      }
    });
  };
}
