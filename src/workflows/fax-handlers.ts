import { setHandler } from '@temporalio/workflow';
import {
  cancelUpdate,
  connectionRestoredSignal,
  deliveryStatusSignal,
  rescheduleUpdate,
  statusQuery,
  webhooksDownSignal,
} from '../contracts/workflow-messages';
import type { CancelFaxResult, RescheduleFaxResult } from '../contracts/workflow-types';
import { isForwardMove } from '../domain/fax-status';
import { sendAtProblem } from '../domain/send-time';
import { BOOKKEEPING, bookkeeping } from './fax-activities';
import { heldByRingCentral, jobRef, type FaxRun } from './fax-run';
import { bufferEarlySignal } from './fax-status-wait';
import { connectionUnavailable } from './fax-connection-wait';

/** The `status` query, the `deliveryStatus` signal and the `cancel` and `reschedule` updates. */
export function installFaxHandlers(run: FaxRun): void {
  const { state } = run;
  setHandler(statusQuery, () => state);

  setHandler(deliveryStatusSignal, (signal) => {
    // While a send is in flight its message id is not known yet: keep the status for it.
    if (run.phase === 'sending') return bufferEarlySignal(run, signal);
    // A status for an earlier attempt's message, or one we already passed, changes nothing.
    if (signal.messageId !== state.messageId || !isForwardMove(run.known, signal.status)) return;
    if (run.pendingSignal && !isForwardMove(run.pendingSignal.status, signal.status)) return;
    run.pendingSignal = signal;
  });

  setHandler(connectionRestoredSignal, (signal) => {
    const own = run.input.connectionId;
    if (own === undefined || signal.connectionId === own) run.connectionRestored = true;
  });

  // No webhook is coming for this connection: stop trusting them and let the status wait poll now.
  setHandler(webhooksDownSignal, (signal) => {
    const own = run.input.connectionId;
    if (own !== undefined && signal.connectionId !== own) return;
    run.webhooksHealthy = false;
    run.webhooksDown = true;
  });

  setHandler(
    cancelUpdate,
    async (): Promise<CancelFaxResult> => {
      if (run.phase === 'done')
        return { canceled: false, reason: `The fax has already finished as ${state.status}.` };
      if (run.cancelRequested) return { canceled: true };
      if (
        run.phase === 'validating' ||
        run.phase === 'scheduled' ||
        run.phase === 'redial-wait' ||
        run.phase === 'connection-wait'
      ) {
        run.cancelRequested = true;
        return { canceled: true };
      }
      if (heldByRingCentral(run)) {
        const result = await cancelHeldMessage(run);
        if (result.canceled) run.cancelRequested = true;
        return result;
      }
      return { canceled: false, reason: 'Transmission has already started; a fax cannot be recalled.' };
    },
    { description: 'Cancel the fax if it has not been transmitted yet.' },
  );

  setHandler(
    rescheduleUpdate,
    async (sendAt): Promise<RescheduleFaxResult> => {
      const newSendAtMs = Date.parse(sendAt);
      if (run.phase === 'validating' || run.phase === 'scheduled') {
        return moveSendTime(run, newSendAtMs);
      }
      if (heldByRingCentral(run)) {
        const result = await cancelHeldMessage(run);
        if (!result.canceled) return { rescheduled: false, reason: result.reason };
        return moveSendTime(run, newSendAtMs);
      }
      const reason =
        run.phase === 'done'
          ? `The fax has already finished as ${state.status}.`
          : 'Transmission has already started; only a fax that is still waiting can be rescheduled.';
      return { rescheduled: false, reason };
    },
    {
      // Validators run before anything is written to history: a bad date is refused outright.
      validator: (sendAt) => {
        const problem =
          typeof sendAt === 'string'
            ? sendAtProblem(sendAt, Date.now())
            : 'sendAt must be an ISO 8601 string.';
        if (problem) throw new Error(problem);
      },
      description: 'Move the send time of a fax that has not been transmitted yet.',
    },
  );
}

function moveSendTime(run: FaxRun, sendAtMs: number): RescheduleFaxResult {
  run.sendAtMs = sendAtMs;
  run.state.sendAt = new Date(sendAtMs).toISOString();
  run.rescheduled = true;
  return { rescheduled: true, sendAt: run.state.sendAt };
}

/** Deletes the held message; concurrent cancel/reschedule calls share one deletion. */
export function cancelHeldMessage(run: FaxRun): Promise<CancelFaxResult> {
  const { state } = run;
  run.cancelling ??= bookkeeping.cancelScheduledFax
    .executeWithOptions({ ...BOOKKEEPING, summary: 'delete the scheduled RingCentral message' }, [
      {
        ...jobRef(run),
        attemptNo: state.attempt,
        messageId: state.messageId!,
        sendAt: state.sendAt!,
      },
    ])
    .catch((err: unknown): CancelFaxResult => {
      const unavailable = connectionUnavailable(err);
      if (!unavailable) throw err;
      return {
        canceled: false,
        reason: `The RingCentral connection needs reconnecting, so the scheduled fax cannot be deleted now: ${unavailable.reason}`,
      };
    })
    .finally(() => (run.cancelling = undefined));
  return run.cancelling;
}
