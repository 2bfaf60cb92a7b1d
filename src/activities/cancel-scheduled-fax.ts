import { updateFaxAttempt } from '../db/fax-attempts';
import { insertFaxEvent } from '../db/fax-events';
import { ringCentralFor, type ConnectionArgs } from './connection';
import type { ActivityDeps } from './deps';
import { jobRowId } from './job-row';
import { toApplicationFailure } from './failures';

export interface CancelScheduledFaxArgs extends ConnectionArgs {
  /** The job's row id: its workflow id (see job-row.ts). */
  jobId: string;
  attemptNo: number;
  messageId: string;
  /** The `sendTime` RingCentral holds the fax for (ISO). */
  sendAt: string;
}

export type CancelScheduledFaxResult = { canceled: true } | { canceled: false; reason: string };

/** How close to its send time we no longer trust a delete to stop the transmission. */
const TOO_LATE_MS = 30_000;

/**
 * Cancels a fax RingCentral holds for its `sendTime` by deleting the message, the documented way.
 * Deleting a fax already being transmitted does not recall it, so we refuse once the send time is
 * near or the message has moved past `Queued`.
 */
export function createCancelScheduledFax(deps: ActivityDeps) {
  const { db } = deps;
  return async function cancelScheduledFax(args: CancelScheduledFaxArgs): Promise<CancelScheduledFaxResult> {
    const jobId = jobRowId(args.jobId);
    const ringcentral = await ringCentralFor(deps, args.connectionId);
    try {
      const message = await ringcentral.getMessage(args.messageId);
      if (message.messageStatus !== 'Queued') {
        return {
          canceled: false,
          reason: `RingCentral already reports the fax as ${message.messageStatus}.`,
        };
      }
      if (Date.now() >= Date.parse(args.sendAt) - TOO_LATE_MS) {
        return { canceled: false, reason: 'Its send time has come: transmission may already have started.' };
      }
      await ringcentral.deleteMessage(args.messageId);
    } catch (err) {
      throw toApplicationFailure(err);
    }
    await db.transaction().execute(async (trx) => {
      await updateFaxAttempt(trx, jobId, args.attemptNo, { status: 'Canceled', finished: true });
      await insertFaxEvent(trx, {
        jobId,
        attemptNo: args.attemptNo,
        messageId: args.messageId,
        status: 'Canceled',
        source: 'workflow',
        detail: { deletedScheduledMessage: true },
      });
    });
    return { canceled: true };
  };
}
