import {
  CancellationScope,
  condition,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { faxSendOptions } from '../contracts/fax-send-options';
import { FaxMessageIdKey, FaxRecipientKey, FaxStatusKey } from '../contracts/search-attributes';
import { SLOW_SEND_MS, type FaxWorkflowInput, type FaxWorkflowResult } from '../contracts/workflow-types';
import { bookkeeping, sendActivityOptions, validation } from './fax-activities';
import { finish, finishAfterError, finishCanceled, settle } from './fax-finish';
import { installFaxHandlers } from './fax-handlers';
import {
  formatMs,
  jobRef,
  nowIso,
  searchAttributeSoon,
  setStatus,
  startRun,
  upsertStatus,
  workflowStartIso,
  type FaxRun,
} from './fax-run';
import { takeEarlySignal, waitForFinalStatus, type WaitOutcome } from './fax-status-wait';
import { connectionUnavailable, waitForConnection } from './fax-connection-wait';

/**
 * One fax to one recipient, from validation to a final, recorded outcome. Deterministic: every
 * effect (database, RingCentral, documents) happens in activities; time is Temporal's.
 *
 * The story: validate → wait for the send time → send → follow its status → redial if worth it →
 * finish. Message handlers live in fax-handlers.ts, the status wait in fax-status-wait.ts and the
 * ending in fax-finish.ts; all share one `FaxRun` (fax-run.ts).
 */
export async function FaxWorkflow(input: FaxWorkflowInput): Promise<FaxWorkflowResult> {
  const run = startRun(input);
  const send = sender(run);
  installFaxHandlers(run);
  try {
    if (!input.resume) {
      const rejected = await validate(run);
      if (rejected) return rejected;
      if (run.cancelRequested) return await finishCanceled(run);
      await waitForSendTime(run);
      if (run.cancelRequested) return await finishCanceled(run);
      run.deadline = Math.max(Date.now(), run.sendAtMs ?? 0) + run.policy.killAfterMs;
    }

    for (let sendNow = !input.resume; ; sendNow = true) {
      if (sendNow) {
        const ended = await send();
        if (ended) return ended;
      }
      const outcome = await waitForFinalStatus(run);
      if (outcome.kind === 'rescheduled') {
        run.deadline = Math.max(run.deadline, (run.sendAtMs ?? 0) + run.policy.killAfterMs);
        setStatus(run, 'Scheduled', { note: `rescheduled to ${run.state.sendAt}` });
        continue;
      }
      const settled = await settle(run, outcome, true);
      if (settled !== 'redial') return settled;
      const ended = await waitToRedial(run, outcome);
      if (ended) return ended;
    }
  } catch (err) {
    return await finishAfterError(run, err);
  }
}

/** prepareFaxJob checks and records the job; a rejection ends the run at once. */
async function validate(run: FaxRun): Promise<FaxWorkflowResult | undefined> {
  const { input, state } = run;
  const prepared = await validation.prepareFaxJob({
    ...input,
    workflowId: workflowInfo().workflowId,
    submittedAt: workflowStartIso(),
  });
  if (prepared.ok && run.sendAtProblem) {
    // prepareFaxJob checks sendAt too; this covers a worker whose activity did not.
    await bookkeeping.recordJobStatus({
      ...jobRef(run),
      status: 'Rejected',
      errorCode: 'INVALID_REQUEST',
      errorMessage: run.sendAtProblem,
    });
    return rejected(run, 'INVALID_REQUEST', run.sendAtProblem);
  }
  if (!prepared.ok) return rejected(run, prepared.code, prepared.message);
  state.recipient = prepared.recipient;
  run.documents = prepared.documents;
  // The client's start already set FaxRecipient to the normalised number (input.mergedUpserts).
  if (!input.mergedUpserts || prepared.recipient !== input.to)
    searchAttributeSoon(run, { key: FaxRecipientKey, value: prepared.recipient });
  return undefined;
}

function rejected(run: FaxRun, code: string, message: string): FaxWorkflowResult {
  run.phase = 'done';
  run.state.status = 'Rejected';
  run.state.timeline.push({ at: nowIso(), status: 'Rejected', note: message });
  upsertSearchAttributes([{ key: FaxStatusKey, value: 'Rejected' }]);
  return {
    jobId: run.input.jobId,
    status: 'Rejected',
    recipient: run.input.to,
    attempts: 0,
    errorCode: code,
    errorMessage: message,
  };
}

/** With `schedule: 'timer'`, a durable timer until `sendAt`; a cancel or a reschedule wakes it. */
async function waitForSendTime(run: FaxRun): Promise<void> {
  if (run.mode !== 'timer' || run.sendAtMs === undefined || run.sendAtMs <= Date.now()) return;
  run.phase = 'scheduled';
  setStatus(run, 'Scheduled');
  await bookkeeping.recordJobStatus({
    ...jobRef(run),
    status: 'Scheduled',
    note: `send at ${run.state.sendAt}`,
  });
  // It survives worker restarts and costs nothing while it waits; a reschedule moves `sendAtMs`.
  while (run.sendAtMs > Date.now() && !run.cancelRequested) {
    run.rescheduled = false;
    run.state.next = { action: 'send', at: new Date(run.sendAtMs).toISOString() };
    await condition(() => run.cancelRequested || run.rescheduled, run.sendAtMs - Date.now(), {
      summary: `wait for the scheduled send at ${new Date(run.sendAtMs).toISOString()}`,
    });
  }
}

/**
 * One send attempt: sendFax on the send task queue, then the message is followed. While the job's
 * RingCentral connection needs reconnecting the same attempt waits for it (nothing was sent); the
 * result is the job's end when it ends during that wait (kill time, cancel).
 */
function sender(run: FaxRun): () => Promise<FaxWorkflowResult | undefined> {
  const sendOptions = sendActivityOptions(run.policy);
  const sending = proxyActivities<FaxActivities>(sendOptions);
  return async () => {
    const { state } = run;
    // A reschedule that came before this send is honoured by it (sendAt/sendTime already moved);
    // it must not also end the wait that follows and cause a second send.
    run.rescheduled = false;
    state.attempt += 1;
    for (;;) {
      try {
        await sendAttempt(run, sending, sendOptions);
        return undefined;
      } catch (err) {
        const unavailable = connectionUnavailable(err);
        if (!unavailable) throw err;
        const waited = await waitForConnection(run, unavailable, true, err);
        if (waited === 'canceled') return await finishCanceled(run);
        if (waited === 'expired') {
          return await finish(run, 'Expired', {
            code: 'EXPIRED',
            message: `The RingCentral connection was not reconnected before the kill time (${unavailable.reason}).`,
          });
        }
        if (run.cancelRequested) return await finishCanceled(run);
      }
    }
  };
}

async function sendAttempt(
  run: FaxRun,
  sending: ReturnType<typeof proxyActivities<FaxActivities>>,
  sendOptions: ReturnType<typeof sendActivityOptions>,
): Promise<void> {
  const { input, state } = run;
  run.phase = 'sending';
  setStatus(run, 'Sending', {}, { brief: true });
  const sendTime =
    run.mode === 'ringcentral' && run.sendAtMs !== undefined && run.sendAtMs > Date.now()
      ? new Date(run.sendAtMs).toISOString()
      : undefined;
  // Not cancellable: once the request may have left, we must learn its message id, or a
  // cancellation would leave a fax transmitting that nobody follows or records.
  const sent = await CancellationScope.nonCancellable(() =>
    showSendingIfSlow(
      run,
      sending.sendFax.executeWithOptions(
        { ...sendOptions, summary: `send attempt ${state.attempt} to ${state.recipient}` },
        [
          {
            ...jobRef(run),
            attemptNo: state.attempt,
            recipient: state.recipient,
            ...(input.recipientName && { recipientName: input.recipientName }),
            documents: run.documents,
            ...faxSendOptions(input),
            // Our own cover page replaces RingCentral's account default.
            ...(input.coverPage && { coverIndex: 0 }),
            ...(sendTime && { sendTime }),
            // The send refuses a job row that another run registered (issue 8 #9).
            workflowRunId: workflowInfo().firstExecutionRunId,
          },
        ],
      ),
    ),
  );
  state.messageId = sent.messageId;
  run.known = sent.status;
  run.webhooksHealthy = sent.webhooksHealthy === true;
  run.pendingSignal = takeEarlySignal(run, sent.messageId);
  run.phase = 'in-flight';
  searchAttributeSoon(run, { key: FaxMessageIdKey, value: sent.messageId });
  setStatus(run, 'Queued', sent.adopted ? { note: 'adopted a fax an unanswered attempt had sent' } : {}, {
    brief: run.quietQueued,
  });
}

/**
 * With `quietStatuses`, FaxStatus shows `Sending` only once the send has run for `SLOW_SEND_MS`
 * (waiting for its number or budget, retrying): an operator filtering on it finds sends that are
 * stuck, not the many that answer within milliseconds. The timer costs two history events and no
 * visibility write; it is cancelled in the workflow task that learns the send's outcome.
 */
async function showSendingIfSlow<T>(run: FaxRun, sending: Promise<T>): Promise<T> {
  if (!run.quietStatuses) return await sending;
  const watch = new CancellationScope();
  watch
    .run(() => sleep(SLOW_SEND_MS, { summary: 'show Sending if the send is slow' }))
    .then(
      () => {
        if (run.phase === 'sending') upsertStatus(run);
      },
      // Cancelled: the send answered first.
      () => undefined,
    );
  try {
    return await sending;
  } finally {
    watch.cancel();
  }
}

/** The backoff before a redial; the result when the job ends instead (kill time, cancel). */
async function waitToRedial(run: FaxRun, outcome: WaitOutcome): Promise<FaxWorkflowResult | undefined> {
  const code = (outcome.kind === 'final' && (outcome.faxErrorCode ?? outcome.status)) || 'Failed';
  const backoff = run.policy.redialBackoffMs * 2 ** (run.failedAttempts - 1);
  if (Date.now() + backoff >= run.deadline) {
    return await finish(run, 'Expired', {
      code: 'EXPIRED',
      message: `The next redial would fall after the kill time (${code}).`,
    });
  }
  run.phase = 'redial-wait';
  setStatus(run, 'WaitingToRedial', { faxErrorCode: code });
  run.state.next = {
    action: `redial (attempt ${run.state.attempt + 1})`,
    at: new Date(Date.now() + backoff).toISOString(),
  };
  await bookkeeping.recordJobStatus({
    ...jobRef(run),
    status: 'WaitingToRedial',
    errorCode: code,
    note: `redial in ${formatMs(backoff)}`,
  });
  if (await condition(() => run.cancelRequested, backoff, { summary: `redial backoff after ${code}` }))
    return await finishCanceled(run);
  return undefined;
}
