import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { isRedialable } from '../domain/fax-error-codes';
import {
  isForwardMove,
  isMessageFinal,
  type FaxJobStatus,
  type RingCentralMessageStatus,
} from '../domain/fax-status';
import { sendAtProblem } from '../domain/send-time';
import type { DocumentRef } from '../storage/document-store';
import { FaxMessageIdKey, FaxRecipientKey, FaxStatusKey } from '../contracts/search-attributes';
import { faxSendOptions } from '../contracts/fax-send-options';
import { sendTaskQueue } from '../contracts/task-queues';
import {
  cancelUpdate,
  deliveryStatusSignal,
  rescheduleUpdate,
  statusQuery,
} from '../contracts/workflow-messages';
import {
  DEFAULT_POLICY,
  type CancelFaxResult,
  type DeliveryStatusSignal,
  type FaxPolicy,
  type FaxStatusObservation,
  type FaxResumeState,
  type FaxTimelineEntry,
  type FaxWorkflowInput,
  type FaxWorkflowResult,
  type FaxWorkflowState,
  type RescheduleFaxResult,
} from '../contracts/workflow-types';

// Activity proxies grouped by timeout profile. Retries are Temporal's: an activity that fails on a
// transient fault is retried with backoff (or at the delay it asked for), and the workflow only
// sees the final outcome.

/** Database bookkeeping and RingCentral reads: short, retried until they succeed. */
const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
const bookkeeping = proxyActivities<FaxActivities>(BOOKKEEPING);

/** Validation reads up to 50 MB and parses PDFs. */
const validation = proxyActivities<FaxActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute' },
});

/**
 * From this patch on, a polled status is recorded by `recordFaxObservation`, like a webhook's,
 * instead of inside the poll (`checkFaxStatus`, still used when replaying older runs).
 */
const WORKFLOW_RECORDS_POLLS = 'workflow-records-polls';

/** A successor carries the recent timeline only, so its input stays small. */
const TIMELINE_CARRIED = 50;

type Phase = 'validating' | 'scheduled' | 'sending' | 'in-flight' | 'redial-wait' | 'done';
type WaitOutcome =
  | { kind: 'final'; status: RingCentralMessageStatus; faxErrorCode?: string }
  | { kind: 'sent-unconfirmed' }
  | { kind: 'expired' }
  | { kind: 'canceled' }
  | { kind: 'rescheduled' };

/**
 * One fax to one recipient, from validation to a final, recorded outcome. Deterministic: every
 * effect (database, RingCentral, documents) happens in activities; time is Temporal's.
 */
export async function FaxWorkflow(input: FaxWorkflowInput): Promise<FaxWorkflowResult> {
  const policy: FaxPolicy = { ...DEFAULT_POLICY, ...input.policy };
  const info = workflowInfo();
  const mode = input.schedule ?? 'timer';
  const sendOptions: ActivityOptions = {
    taskQueue: sendTaskQueue(info.taskQueue),
    // Covers the upload of up to 50 MB; past it the send is ambiguous and the retry looks before it sends.
    startToCloseTimeout: '3 minutes',
    retry: {
      initialInterval: policy.sendRetryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: ['RingCentralRejected'],
    },
  };
  const sending = proxyActivities<FaxActivities>(sendOptions);

  const resume = input.resume;
  const state: FaxWorkflowState = {
    jobId: input.jobId,
    status: resume ? 'Queued' : 'Accepted',
    recipient: resume?.recipient ?? input.to,
    attempt: resume?.attempt ?? 0,
    timeline: resume?.timeline ?? [{ at: nowIso(), status: 'Accepted' }],
    ...(resume && { messageId: resume.messageId }),
  };
  let phase: Phase = resume ? 'in-flight' : 'validating';
  let documents: DocumentRef[] = resume?.documents ?? input.documents;
  let known: RingCentralMessageStatus | undefined = resume?.known;
  let failedAttempts = resume?.failedAttempts ?? 0;
  let sendAtMs: number | undefined =
    resume?.sendAtMs ?? (input.sendAt ? Date.parse(input.sendAt) : undefined);
  let deadline = resume?.deadline ?? Infinity;
  let pendingSignal: DeliveryStatusSignal | undefined;
  /** Status webhooks are flowing (as last reported by an activity): polling is only a safety net. */
  let webhooksHealthy = false;
  let cancelRequested = false;
  let rescheduled = false;
  let cancelling: Promise<CancelFaxResult> | undefined;
  if (sendAtMs !== undefined) state.sendAt = new Date(sendAtMs).toISOString();

  setHandler(statusQuery, () => state);

  setHandler(deliveryStatusSignal, (signal) => {
    // A status for an earlier attempt's message, or one we already passed, changes nothing.
    if (signal.messageId !== state.messageId || !isForwardMove(known, signal.status)) return;
    if (pendingSignal && !isForwardMove(pendingSignal.status, signal.status)) return;
    pendingSignal = signal;
  });

  /** Whether RingCentral still holds our message for its send time (schedule: 'ringcentral'). */
  const heldByRingCentral = (): boolean =>
    mode === 'ringcentral' &&
    phase === 'in-flight' &&
    known === 'Queued' &&
    sendAtMs !== undefined &&
    Date.now() < sendAtMs;

  /** Deletes the held message; concurrent cancel/reschedule calls share one deletion. */
  const cancelHeldMessage = (): Promise<CancelFaxResult> => {
    cancelling ??= bookkeeping.cancelScheduledFax
      .executeWithOptions({ ...BOOKKEEPING, summary: 'delete the scheduled RingCentral message' }, [
        { jobId: input.jobId, attemptNo: state.attempt, messageId: state.messageId!, sendAt: state.sendAt! },
      ])
      .finally(() => (cancelling = undefined));
    return cancelling;
  };

  setHandler(
    cancelUpdate,
    async (): Promise<CancelFaxResult> => {
      if (phase === 'done')
        return { canceled: false, reason: `The fax has already finished as ${state.status}.` };
      if (cancelRequested) return { canceled: true };
      if (phase === 'validating' || phase === 'scheduled' || phase === 'redial-wait') {
        cancelRequested = true;
        return { canceled: true };
      }
      if (heldByRingCentral()) {
        const result = await cancelHeldMessage();
        if (result.canceled) cancelRequested = true;
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
      if (phase === 'validating' || phase === 'scheduled') {
        sendAtMs = newSendAtMs;
        state.sendAt = new Date(newSendAtMs).toISOString();
        rescheduled = true;
        return { rescheduled: true, sendAt: state.sendAt };
      }
      if (heldByRingCentral()) {
        const result = await cancelHeldMessage();
        if (!result.canceled) return { rescheduled: false, reason: result.reason };
        sendAtMs = newSendAtMs;
        state.sendAt = new Date(newSendAtMs).toISOString();
        rescheduled = true;
        return { rescheduled: true, sendAt: state.sendAt };
      }
      const reason =
        phase === 'done'
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

  const setStatus = (status: FaxJobStatus, extra: Partial<FaxTimelineEntry> = {}): void => {
    state.status = status;
    state.timeline.push({
      at: nowIso(),
      status,
      ...(state.attempt > 0 && { attempt: state.attempt }),
      ...(state.messageId && { messageId: state.messageId }),
      ...extra,
    });
    upsertSearchAttributes([{ key: FaxStatusKey, value: status }]);
  };

  const finish = async (
    status: FaxJobStatus,
    error?: { code: string; message: string },
  ): Promise<FaxWorkflowResult> => {
    phase = 'done';
    setStatus(status, error ? { note: error.message } : {});
    delete state.next;
    await bookkeeping.recordJobStatus({
      jobId: input.jobId,
      status,
      attempts: state.attempt,
      ...(state.messageId && { messageId: state.messageId }),
      ...(error && { errorCode: error.code, errorMessage: error.message }),
    });
    // Let an update that is still answering (e.g. a cancel that lost the race) finish cleanly.
    await condition(allHandlersFinished);
    return {
      jobId: input.jobId,
      status,
      recipient: state.recipient,
      attempts: state.attempt,
      ...(state.messageId && { messageId: state.messageId }),
      ...(error && { errorCode: error.code, errorMessage: error.message }),
    };
  };
  const canceled = () =>
    finish('Canceled', { code: 'CANCELED', message: 'The fax was canceled before transmission.' });

  try {
    if (!resume) {
      const prepared = await validation.prepareFaxJob({
        ...input,
        workflowId: info.workflowId,
        submittedAt: new Date(info.startTime).toISOString(),
      });
      if (!prepared.ok) {
        phase = 'done';
        state.status = 'Rejected';
        state.timeline.push({ at: nowIso(), status: 'Rejected', note: prepared.message });
        upsertSearchAttributes([{ key: FaxStatusKey, value: 'Rejected' }]);
        return {
          jobId: input.jobId,
          status: 'Rejected',
          recipient: input.to,
          attempts: 0,
          errorCode: prepared.code,
          errorMessage: prepared.message,
        };
      }
      state.recipient = prepared.recipient;
      documents = prepared.documents;
      upsertSearchAttributes([{ key: FaxRecipientKey, value: prepared.recipient }]);
      if (cancelRequested) return await canceled();

      if (mode === 'timer' && sendAtMs !== undefined && sendAtMs > Date.now()) {
        phase = 'scheduled';
        setStatus('Scheduled');
        await bookkeeping.recordJobStatus({
          jobId: input.jobId,
          status: 'Scheduled',
          note: `send at ${state.sendAt}`,
        });
        // A durable timer: it survives worker restarts and costs nothing while it waits. The
        // condition also wakes for a cancel or a reschedule, which moves `sendAtMs`.
        while (sendAtMs > Date.now() && !cancelRequested) {
          rescheduled = false;
          state.next = { action: 'send', at: new Date(sendAtMs).toISOString() };
          await condition(() => cancelRequested || rescheduled, sendAtMs - Date.now(), {
            summary: `wait for the scheduled send at ${new Date(sendAtMs).toISOString()}`,
          });
        }
        if (cancelRequested) return await canceled();
      }
      deadline = Math.max(Date.now(), sendAtMs ?? 0) + policy.killAfterMs;
    }

    for (let sendNow = !resume; ; sendNow = true) {
      if (sendNow) {
        // A reschedule that came before this send is honoured by it (sendAt/sendTime already moved);
        // it must not also end the wait that follows and cause a second send.
        rescheduled = false;
        state.attempt += 1;
        phase = 'sending';
        setStatus('Sending');
        const sendTime =
          mode === 'ringcentral' && sendAtMs !== undefined && sendAtMs > Date.now()
            ? new Date(sendAtMs).toISOString()
            : undefined;
        // Not cancellable: once the request may have left, we must learn its message id, or a
        // cancellation would leave a fax transmitting that nobody follows or records.
        const sent = await CancellationScope.nonCancellable(() =>
          sending.sendFax.executeWithOptions(
            { ...sendOptions, summary: `send attempt ${state.attempt} to ${state.recipient}` },
            [
              {
                jobId: input.jobId,
                attemptNo: state.attempt,
                recipient: state.recipient,
                ...(input.recipientName && { recipientName: input.recipientName }),
                documents,
                ...faxSendOptions(input),
                // Our own cover page replaces RingCentral's account default.
                ...(input.coverPage && { coverIndex: 0 }),
                ...(sendTime && { sendTime }),
              },
            ],
          ),
        );
        state.messageId = sent.messageId;
        known = sent.status;
        webhooksHealthy = sent.webhooksHealthy === true;
        pendingSignal = undefined;
        phase = 'in-flight';
        upsertSearchAttributes([{ key: FaxMessageIdKey, value: sent.messageId }]);
        setStatus('Queued', sent.adopted ? { note: 'adopted a fax an unanswered attempt had sent' } : {});
      }

      const outcome = await waitForFinalStatus();
      if (outcome.kind === 'rescheduled') {
        deadline = Math.max(deadline, (sendAtMs ?? 0) + policy.killAfterMs);
        setStatus('Scheduled', { note: `rescheduled to ${state.sendAt}` });
        continue;
      }
      const settled = await settle(outcome, true);
      if (settled !== 'redial') return settled;
      const code = (outcome.kind === 'final' && (outcome.faxErrorCode ?? outcome.status)) || 'Failed';
      const backoff = policy.redialBackoffMs * 2 ** (failedAttempts - 1);
      if (Date.now() + backoff >= deadline) {
        return await finish('Expired', {
          code: 'EXPIRED',
          message: `The next redial would fall after the kill time (${code}).`,
        });
      }
      phase = 'redial-wait';
      setStatus('WaitingToRedial', { faxErrorCode: code });
      state.next = {
        action: `redial (attempt ${state.attempt + 1})`,
        at: new Date(Date.now() + backoff).toISOString(),
      };
      await bookkeeping.recordJobStatus({
        jobId: input.jobId,
        status: 'WaitingToRedial',
        errorCode: code,
        note: `redial in ${formatMs(backoff)}`,
      });
      if (await condition(() => cancelRequested, backoff, { summary: `redial backoff after ${code}` }))
        return await canceled();
    }
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled from the Temporal UI or a client. A fax already handed to RingCentral cannot be
      // recalled: keep following it (uncancellable) and record how it really ended, without redials.
      if (heldByRingCentral()) {
        // RingCentral still holds it for its send time: deleting the message cancels it for real.
        const held = await CancellationScope.nonCancellable(() => cancelHeldMessage());
        if (held.canceled) {
          await CancellationScope.nonCancellable(() => canceled());
          throw err;
        }
      }
      if (phase === 'in-flight' && state.messageId) {
        return await CancellationScope.nonCancellable(async () => {
          state.timeline.push({
            at: nowIso(),
            status: state.status,
            note: 'cancellation requested after transmission started',
          });
          const outcome = await waitForFinalStatus();
          const settled = await settle(outcome, false);
          return settled === 'redial'
            ? finish('Failed', { code: 'CANCELED', message: 'Canceled before a redial.' })
            : settled;
        });
      }
      // Before transmission: record it, even though this scope is cancelled, and end as cancelled.
      await CancellationScope.nonCancellable(() =>
        finish('Canceled', { code: 'CANCELED', message: 'The workflow was cancelled.' }),
      );
      throw err;
    }
    if (
      err instanceof ActivityFailure &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === 'RingCentralRejected'
    ) {
      return await finish('Failed', { code: errorCodeOf(err.cause), message: err.cause.message });
    }
    throw err;
  }

  /**
   * Ends the job for an outcome, or answers 'redial' when the failure is worth another attempt
   * (and `mayRedial`, attempts and the kill time allow it).
   */
  async function settle(outcome: WaitOutcome, mayRedial: boolean): Promise<FaxWorkflowResult | 'redial'> {
    switch (outcome.kind) {
      case 'canceled':
      case 'rescheduled':
        return canceled();
      case 'sent-unconfirmed':
        return finish('SentUnconfirmed');
      case 'expired':
        return finish('Expired', {
          code: 'EXPIRED',
          message: `No final status within the kill time (${formatMs(policy.killAfterMs)}).`,
        });
      case 'final':
        break;
    }
    if (outcome.status === 'Delivered') return finish('Delivered');
    failedAttempts += 1;
    const code = outcome.faxErrorCode ?? outcome.status;
    const worthIt = isRedialable(outcome.faxErrorCode);
    if (!mayRedial || !worthIt || failedAttempts >= policy.maxAttempts) {
      const why = !worthIt
        ? 'and redialling cannot help'
        : mayRedial
          ? `after ${state.attempt} attempts`
          : 'and the fax was canceled';
      return finish('Failed', { code, message: `The fax failed with ${code} ${why}.` });
    }
    return 'redial';
  }

  /**
   * Waits for the current message to reach a final status: a `deliveryStatus` signal ends a wait
   * at once, otherwise RingCentral is polled at growing intervals. `Sent` followed by silence for
   * the quiet period counts as success; the kill time ends everything. Long waits continue as new.
   */
  async function waitForFinalStatus(): Promise<WaitOutcome> {
    let interval = policy.pollInitialMs;
    let sentAtMs: number | undefined = resume?.sentAtMs ?? (known === 'Sent' ? Date.now() : undefined);
    for (;;) {
      if (cancelRequested) return { kind: 'canceled' };
      if (rescheduled) {
        rescheduled = false;
        return { kind: 'rescheduled' };
      }
      // Well before Temporal's 50k-event limit, hand over to a fresh run with the state that matters.
      if (
        workflowInfo().historyLength > policy.continueAsNewAfterEvents ||
        workflowInfo().continueAsNewSuggested
      ) {
        await condition(allHandlersFinished);
        const carried: FaxResumeState = {
          recipient: state.recipient,
          documents,
          attempt: state.attempt,
          failedAttempts,
          messageId: state.messageId!,
          known: known ?? 'Queued',
          deadline,
          timeline: state.timeline.slice(-TIMELINE_CARRIED),
          ...(sentAtMs !== undefined && { sentAtMs }),
          ...(sendAtMs !== undefined && { sendAtMs }),
        };
        await continueAsNew<typeof FaxWorkflow>({ ...input, resume: carried });
      }

      // A fax RingCentral holds for its send time has nothing to report before then.
      const holdUntil = mode === 'ringcentral' && sendAtMs !== undefined ? sendAtMs : -Infinity;
      const quietEnds = sentAtMs === undefined ? Infinity : sentAtMs + policy.sentQuietPeriodMs;
      // With healthy webhooks a signal will come; polling then only guards against a lost one.
      const pollIn = webhooksHealthy ? Math.max(interval, policy.pollWithWebhooksMs) : interval;
      const wait = Math.min(
        Math.max(pollIn, holdUntil - Date.now() + pollIn),
        deadline - Date.now(),
        quietEnds - Date.now(),
      );
      state.next = { action: 'check status', at: new Date(Date.now() + Math.max(wait, 0)).toISOString() };
      const woken =
        wait > 0 &&
        (await condition(() => pendingSignal !== undefined || cancelRequested || rescheduled, wait, {
          summary: 'wait for a status webhook, then poll',
        }));
      if (cancelRequested || rescheduled) continue;

      const message = {
        jobId: input.jobId,
        attemptNo: state.attempt,
        messageId: state.messageId!,
        recipient: state.recipient,
        ...(known && { known }),
      };
      let observation: FaxStatusObservation;
      let source: 'webhook' | 'poll';
      /** Runs from before the one write path: their `checkFaxStatus` already recorded the poll. */
      let recorded = false;
      if (woken && pendingSignal) {
        const signal = pendingSignal;
        pendingSignal = undefined;
        observation = {
          status: signal.status,
          ...(signal.faxErrorCode && { faxErrorCode: signal.faxErrorCode }),
        };
        source = 'webhook';
      } else {
        const poll = { ...BOOKKEEPING, summary: `poll RingCentral for message ${state.messageId}` };
        if (patched(WORKFLOW_RECORDS_POLLS)) {
          observation = await bookkeeping.readFaxStatus.executeWithOptions(poll, [message]);
        } else {
          observation = await bookkeeping.checkFaxStatus.executeWithOptions(poll, [message]);
          recorded = true;
        }
        source = 'poll';
        webhooksHealthy = observation.webhooksHealthy === true;
        interval = Math.min(interval * policy.pollGrowth, policy.pollMaxMs);
      }

      if (isForwardMove(known, observation.status)) {
        if (!recorded) {
          const { webhooksHealthy: _, ...seen } = observation;
          await bookkeeping.recordFaxObservation({ ...message, observation: seen, source });
        }
        known = observation.status;
        if (known === 'Sent') {
          sentAtMs = Date.now();
          setStatus('Sent');
        }
      }
      if (isMessageFinal(observation.status)) {
        return {
          kind: 'final',
          status: observation.status,
          ...(observation.faxErrorCode && { faxErrorCode: observation.faxErrorCode }),
        };
      }
      if (sentAtMs !== undefined && Date.now() >= sentAtMs + policy.sentQuietPeriodMs)
        return { kind: 'sent-unconfirmed' };
      if (Date.now() >= deadline) return { kind: 'expired' };
    }
  }
}

function errorCodeOf(failure: ApplicationFailure): string {
  const detail = failure.details?.[0] as { errorCode?: string } | undefined;
  return detail?.errorCode ?? failure.type ?? 'RINGCENTRAL_REJECTED';
}

function nowIso(): string {
  // Date.now() inside a workflow is the deterministic workflow clock (the task's start time).
  return new Date(Date.now()).toISOString();
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
