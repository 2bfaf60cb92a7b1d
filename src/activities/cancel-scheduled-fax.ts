import { updateFaxAttempt } from '../db/fax-attempts';
import { insertFaxEvent } from '../db/fax-events';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export interface CancelScheduledFaxArgs {
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
export function createCancelScheduledFax({ db, ringcentral }: ActivityDeps) {
  return async function cancelScheduledFax(args: CancelScheduledFaxArgs): Promise<CancelScheduledFaxResult> {
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
      await updateFaxAttempt(trx, args.jobId, args.attemptNo, { status: 'Canceled', finished: true });
      await insertFaxEvent(trx, {
        jobId: args.jobId,
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
