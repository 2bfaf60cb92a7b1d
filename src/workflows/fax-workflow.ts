import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import type { FaxStatusObservation } from '../activities/check-fax-status';
import { isRedialable } from '../domain/fax-error-codes';
import {
  isForwardMove,
  isMessageFinal,
  type FaxJobStatus,
  type RingCentralMessageStatus,
} from '../domain/fax-status';
import type { DocumentRef } from '../storage/document-store';
import { FaxMessageIdKey, FaxRecipientKey, FaxStatusKey } from './search-attributes';
import { deliveryStatusSignal, statusQuery } from './signals';
import {
  DEFAULT_POLICY,
  type DeliveryStatusSignal,
  type FaxPolicy,
  type FaxWorkflowInput,
  type FaxWorkflowResult,
  type FaxWorkflowState,
} from './types';

// Activity proxies grouped by timeout profile. Retries are Temporal's: an activity that fails on
// a transient fault is retried with backoff, and the workflow only sees the final outcome.

/** Database bookkeeping and RingCentral reads: short, retried until they succeed. */
const bookkeeping = proxyActivities<FaxActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Validation reads up to 50 MB and parses PDFs. */
const validation = proxyActivities<FaxActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute' },
});

/** Sends run on their own task queue, so large uploads do not hold the bookkeeping queue's slots. */
export const SEND_TASK_QUEUE_SUFFIX = '-send';

export async function FaxWorkflow(input: FaxWorkflowInput): Promise<FaxWorkflowResult> {
  const policy: FaxPolicy = { ...DEFAULT_POLICY, ...input.policy };
  const info = workflowInfo();
  const sending = proxyActivities<FaxActivities>({
    taskQueue: `${info.taskQueue}${SEND_TASK_QUEUE_SUFFIX}`,
    // Covers the upload of up to 50 MB; past it the send is ambiguous and the retry looks before it sends.
    startToCloseTimeout: '3 minutes',
    retry: {
      initialInterval: '10s',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: ['RingCentralRejected'],
    },
  });

  const state: FaxWorkflowState = {
    jobId: input.jobId,
    status: 'Accepted',
    recipient: input.to,
    attempt: 0,
    timeline: [{ at: nowIso(), status: 'Accepted' }],
  };
  let known: RingCentralMessageStatus | undefined;
  let pendingSignal: DeliveryStatusSignal | undefined;

  setHandler(statusQuery, () => state);
  setHandler(deliveryStatusSignal, (signal) => {
    // A status for an earlier attempt's message, or one we already passed, changes nothing.
    if (signal.messageId !== state.messageId || !isForwardMove(known, signal.status)) return;
    if (pendingSignal && !isForwardMove(pendingSignal.status, signal.status)) return;
    pendingSignal = signal;
  });

  const setStatus = (status: FaxJobStatus, extra: { note?: string; faxErrorCode?: string } = {}): void => {
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
    setStatus(status, error ? { note: error.message } : {});
    delete state.next;
    await bookkeeping.recordJobStatus({
      jobId: input.jobId,
      status,
      attempts: state.attempt,
      ...(state.messageId && { messageId: state.messageId }),
      ...(error && { errorCode: error.code, errorMessage: error.message }),
    });
    return {
      jobId: input.jobId,
      status,
      recipient: state.recipient,
      attempts: state.attempt,
      ...(state.messageId && { messageId: state.messageId }),
      ...(error && { errorCode: error.code, errorMessage: error.message }),
    };
  };

  try {
    const prepared = await validation.prepareFaxJob({ ...input, workflowId: info.workflowId });
    if (!prepared.ok) {
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
    upsertSearchAttributes([{ key: FaxRecipientKey, value: prepared.recipient }]);

    const sendAt = input.sendAt ? Date.parse(input.sendAt) : NaN;
    if (Number.isFinite(sendAt) && sendAt > Date.now()) {
      setStatus('Scheduled');
      state.next = { action: 'send', at: new Date(sendAt).toISOString() };
      await bookkeeping.recordJobStatus({ jobId: input.jobId, status: 'Scheduled' });
      // A durable timer: it survives worker restarts and costs nothing while it waits.
      await sleep(sendAt - Date.now(), {
        summary: `wait for scheduled send at ${new Date(sendAt).toISOString()}`,
      });
    }
    const deadline = Date.now() + policy.killAfterMs;

    for (state.attempt = 1; ; state.attempt++) {
      setStatus('Sending');
      const sent = await sending.sendFax({
        jobId: input.jobId,
        attemptNo: state.attempt,
        recipient: prepared.recipient,
        ...(input.recipientName && { recipientName: input.recipientName }),
        documents: prepared.documents as DocumentRef[],
        ...(input.coverIndex !== undefined && { coverIndex: input.coverIndex }),
        ...(input.coverPageText !== undefined && { coverPageText: input.coverPageText }),
        ...(input.faxResolution && { faxResolution: input.faxResolution }),
      });
      state.messageId = sent.messageId;
      known = sent.status;
      pendingSignal = undefined;
      upsertSearchAttributes([{ key: FaxMessageIdKey, value: sent.messageId }]);
      setStatus('Queued', sent.adopted ? { note: 'adopted a fax an unanswered attempt had sent' } : {});

      const outcome = await waitForFinalStatus(deadline);
      if (outcome.status === 'Delivered') return await finish('Delivered');
      if (outcome.status === 'SentUnconfirmed') return await finish('SentUnconfirmed');
      if (outcome.status === 'Expired') {
        return await finish('Expired', {
          code: 'EXPIRED',
          message: `No final status within ${formatMs(policy.killAfterMs)}.`,
        });
      }
      const code = outcome.faxErrorCode ?? outcome.status;
      if (!isRedialable(outcome.faxErrorCode) || state.attempt >= policy.maxAttempts) {
        const why = isRedialable(outcome.faxErrorCode)
          ? `after ${state.attempt} attempts`
          : 'and redialling cannot help';
        return await finish('Failed', { code, message: `The fax failed with ${code} ${why}.` });
      }
      const backoff = policy.redialBackoffMs * 2 ** (state.attempt - 1);
      if (Date.now() + backoff >= deadline) {
        return await finish('Expired', {
          code: 'EXPIRED',
          message: `The next redial would fall after the kill time (${code}).`,
        });
      }
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
      await sleep(backoff, { summary: `redial backoff after ${code}` });
    }
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled from the Temporal UI or a client: record it, even though this scope is cancelled.
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
   * Waits for the current message to reach a final status: a `deliveryStatus` signal ends a wait
   * at once, otherwise RingCentral is polled at growing intervals. `Sent` followed by silence for
   * the quiet period counts as success; the kill time ends everything.
   */
  async function waitForFinalStatus(
    deadline: number,
  ): Promise<{ status: RingCentralMessageStatus | 'SentUnconfirmed' | 'Expired'; faxErrorCode?: string }> {
    let interval = policy.pollInitialMs;
    let sentAt: number | undefined = known === 'Sent' ? Date.now() : undefined;
    for (;;) {
      const quietEnds = sentAt === undefined ? Infinity : sentAt + policy.sentQuietPeriodMs;
      const wait = Math.min(interval, deadline - Date.now(), quietEnds - Date.now());
      state.next = { action: 'check status', at: new Date(Date.now() + Math.max(wait, 0)).toISOString() };
      const signalled = wait > 0 && (await condition(() => pendingSignal !== undefined, wait));

      let observation: FaxStatusObservation;
      let source: 'webhook' | 'poll';
      if (signalled && pendingSignal) {
        const signal = pendingSignal;
        pendingSignal = undefined;
        observation = {
          status: signal.status,
          ...(signal.faxErrorCode && { faxErrorCode: signal.faxErrorCode }),
        };
        source = 'webhook';
      } else {
        observation = await bookkeeping.checkFaxStatus({
          jobId: input.jobId,
          attemptNo: state.attempt,
          messageId: state.messageId!,
          recipient: state.recipient,
          ...(known && { known }),
        });
        source = 'poll';
        interval = Math.min(interval * policy.pollGrowth, policy.pollMaxMs);
      }

      if (isForwardMove(known, observation.status)) {
        if (source === 'webhook') {
          await bookkeeping.recordFaxObservation(
            {
              jobId: input.jobId,
              attemptNo: state.attempt,
              messageId: state.messageId!,
              recipient: state.recipient,
              ...(known && { known }),
            },
            observation,
            'webhook',
          );
        }
        known = observation.status;
        if (known === 'Sent') {
          sentAt = Date.now();
          setStatus('Sent');
        } else if (!isMessageFinal(known)) {
          setStatus(known === 'Queued' ? 'Queued' : 'Sent');
        }
      }
      if (isMessageFinal(observation.status)) {
        return {
          status: observation.status,
          ...(observation.faxErrorCode && { faxErrorCode: observation.faxErrorCode }),
        };
      }
      if (known === 'Sent' && sentAt !== undefined && Date.now() >= sentAt + policy.sentQuietPeriodMs) {
        return { status: 'SentUnconfirmed' };
      }
      if (Date.now() >= deadline) return { status: 'Expired' };
      log.debug('fax still in flight', { status: known, nextPollMs: interval });
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
