import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
} from '@temporalio/workflow';
import type { FaxWorkflowResult } from '../contracts/workflow-types';
import { isRedialable, rejectionReason } from '../domain/fax-error-codes';
import type { FaxJobStatus } from '../domain/fax-status';
import { bookkeeping } from './fax-activities';
import { cancelHeldMessage } from './fax-handlers';
import { formatMs, heldByRingCentral, jobRef, nowIso, setStatus, type FaxRun } from './fax-run';
import { waitForFinalStatus, type WaitOutcome } from './fax-status-wait';
import { applied, FINISH_NOT_CANCELLABLE, CANCEL_DELETES_HELD } from './fax-patches';

/** Ends the job: its final status on the timeline, in Postgres and as the workflow's result. */
export async function finish(
  run: FaxRun,
  status: FaxJobStatus,
  error?: { code: string; message: string },
): Promise<FaxWorkflowResult> {
  if (!applied(run, FINISH_NOT_CANCELLABLE)) return await record(run, status, error);
  // Once the outcome is decided it is recorded whatever happens; the run then returns it.
  return await CancellationScope.nonCancellable(() => record(run, status, error));
}

async function record(
  run: FaxRun,
  status: FaxJobStatus,
  error?: { code: string; message: string },
): Promise<FaxWorkflowResult> {
  const { state } = run;
  run.phase = 'done';
  setStatus(run, status, error ? { note: error.message } : {});
  delete state.next;
  await bookkeeping.recordJobStatus({
    ...jobRef(run),
    status,
    attempts: state.attempt,
    ...(state.messageId && { messageId: state.messageId }),
    ...(error && { errorCode: error.code, errorMessage: error.message }),
    final: true,
  });
  // Let an update that is still answering (e.g. a cancel that lost the race) finish cleanly.
  await condition(allHandlersFinished);
  return {
    jobId: run.input.jobId,
    status,
    recipient: state.recipient,
    attempts: state.attempt,
    ...(state.messageId && { messageId: state.messageId }),
    ...(error && { errorCode: error.code, errorMessage: error.message }),
  };
}

export function finishCanceled(run: FaxRun): Promise<FaxWorkflowResult> {
  return finish(run, 'Canceled', { code: 'CANCELED', message: 'The fax was canceled before transmission.' });
}

/**
 * Ends the job for an outcome, or answers 'redial' when the failure is worth another attempt
 * (and `mayRedial`, attempts and the kill time allow it).
 */
export async function settle(
  run: FaxRun,
  outcome: WaitOutcome,
  mayRedial: boolean,
): Promise<FaxWorkflowResult | 'redial'> {
  switch (outcome.kind) {
    case 'canceled':
    case 'rescheduled':
      return finishCanceled(run);
    case 'sent-unconfirmed':
      return finish(run, 'SentUnconfirmed');
    case 'expired':
      return finish(run, 'Expired', {
        code: 'EXPIRED',
        message: `No final status within the kill time (${formatMs(run.policy.killAfterMs)}).`,
      });
    case 'final':
      break;
  }
  if (outcome.status === 'Delivered') return finish(run, 'Delivered');
  // Only reached where the account does not report delivery: Sent is its final success.
  if (outcome.status === 'Sent') return finish(run, 'Sent');
  run.failedAttempts += 1;
  const code = outcome.faxErrorCode ?? outcome.status;
  const worthIt = isRedialable(outcome.faxErrorCode);
  if (!mayRedial || !worthIt || run.failedAttempts >= run.policy.maxAttempts) {
    const why = !worthIt
      ? 'and redialling cannot help'
      : mayRedial
        ? `after ${run.state.attempt} attempts`
        : 'and the fax was canceled';
    return finish(run, 'Failed', { code, message: `The fax failed with ${code} ${why}.` });
  }
  return 'redial';
}

/**
 * What a run does with an error that reached the top: a cancellation (from the Temporal UI or a
 * client) and RingCentral's refusal of the send end the job properly; anything else fails the run.
 */
export async function finishAfterError(run: FaxRun, err: unknown): Promise<FaxWorkflowResult> {
  const { state } = run;
  if (isCancellation(err)) {
    // A fax already handed to RingCentral cannot be recalled: keep following it (uncancellable) and
    // record how it really ended, without redials.
    if (heldByRingCentral(run) && applied(run, CANCEL_DELETES_HELD)) {
      // RingCentral still holds it for its send time: deleting the message cancels it for real.
      const held = await CancellationScope.nonCancellable(() => cancelHeldMessage(run));
      if (held.canceled) {
        await CancellationScope.nonCancellable(() => finishCanceled(run));
        throw err;
      }
    }
    if (run.phase === 'in-flight' && state.messageId) {
      return await CancellationScope.nonCancellable(async () => {
        state.timeline.push({
          at: nowIso(),
          status: state.status,
          note: 'cancellation requested after transmission started',
        });
        const outcome = await waitForFinalStatus(run);
        const settled = await settle(run, outcome, false);
        return settled === 'redial'
          ? finish(run, 'Failed', { code: 'CANCELED', message: 'Canceled before a redial.' })
          : settled;
      });
    }
    // Before transmission: record it, even though this scope is cancelled, and end as cancelled.
    await CancellationScope.nonCancellable(() =>
      finish(run, 'Canceled', { code: 'CANCELED', message: 'The workflow was cancelled.' }),
    );
    throw err;
  }
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === 'RingCentralRejected'
  ) {
    const code = errorCodeOf(err.cause);
    return await finish(run, 'Failed', { code, message: rejectionReason(code, err.cause.message) });
  }
  // The send could not tell which fax was its own (issue 8 #3): held with the evidence, never guessed.
  // Runs that never saw this failure type replay unchanged, so no patch marker is needed.
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === 'NeedsReview'
  ) {
    return await finish(run, 'NeedsReview', { code: 'NEEDS_REVIEW', message: err.cause.message });
  }
  throw err;
}

function errorCodeOf(failure: ApplicationFailure): string {
  const detail = failure.details?.[0] as { errorCode?: string } | undefined;
  return detail?.errorCode ?? failure.type ?? 'RINGCENTRAL_REJECTED';
}
