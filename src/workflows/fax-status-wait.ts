import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import type {
  FaxResumeState,
  FaxStatusObservation,
  FaxWorkflowInput,
  FaxWorkflowResult,
} from '../contracts/workflow-types';
import { isForwardMove, isMessageFinal, type RingCentralMessageStatus } from '../domain/fax-status';
import { BOOKKEEPING, bookkeeping } from './fax-activities';
import { setStatus, type FaxRun } from './fax-run';

export type WaitOutcome =
  | { kind: 'final'; status: RingCentralMessageStatus; faxErrorCode?: string }
  | { kind: 'sent-unconfirmed' }
  | { kind: 'expired' }
  | { kind: 'canceled' }
  | { kind: 'rescheduled' };

/** A successor carries the recent timeline only, so its input stays small. */
const TIMELINE_CARRIED = 50;

/**
 * From this patch on, a polled status is recorded by `recordFaxObservation`, like a webhook's,
 * instead of inside the poll (`checkFaxStatus`, still used when replaying older runs).
 */
const WORKFLOW_RECORDS_POLLS = 'workflow-records-polls';

/** FaxWorkflow's signature, for continue-as-new (importing the workflow itself would be a cycle). */
type FaxWorkflowFn = (input: FaxWorkflowInput) => Promise<FaxWorkflowResult>;

/**
 * Waits for the current message to reach a final status: a `deliveryStatus` signal ends a wait
 * at once, otherwise RingCentral is polled at growing intervals. `Sent` followed by silence for
 * the quiet period counts as success; the kill time ends everything. Long waits continue as new.
 */
export async function waitForFinalStatus(run: FaxRun): Promise<WaitOutcome> {
  const { input, policy, state } = run;
  let interval = policy.pollInitialMs;
  let sentAtMs: number | undefined =
    input.resume?.sentAtMs ?? (run.known === 'Sent' ? Date.now() : undefined);
  for (;;) {
    if (run.cancelRequested) return { kind: 'canceled' };
    if (run.rescheduled) {
      run.rescheduled = false;
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
        documents: run.documents,
        attempt: state.attempt,
        failedAttempts: run.failedAttempts,
        messageId: state.messageId!,
        known: run.known ?? 'Queued',
        deadline: run.deadline,
        timeline: state.timeline.slice(-TIMELINE_CARRIED),
        ...(sentAtMs !== undefined && { sentAtMs }),
        ...(run.sendAtMs !== undefined && { sendAtMs: run.sendAtMs }),
      };
      await continueAsNew<FaxWorkflowFn>({ ...input, resume: carried });
    }

    // A fax RingCentral holds for its send time has nothing to report before then.
    const holdUntil = run.mode === 'ringcentral' && run.sendAtMs !== undefined ? run.sendAtMs : -Infinity;
    const quietEnds = sentAtMs === undefined ? Infinity : sentAtMs + policy.sentQuietPeriodMs;
    // With healthy webhooks a signal will come; polling then only guards against a lost one.
    const pollIn = run.webhooksHealthy ? Math.max(interval, policy.pollWithWebhooksMs) : interval;
    const wait = Math.min(
      Math.max(pollIn, holdUntil - Date.now() + pollIn),
      run.deadline - Date.now(),
      quietEnds - Date.now(),
    );
    state.next = { action: 'check status', at: new Date(Date.now() + Math.max(wait, 0)).toISOString() };
    const woken =
      wait > 0 &&
      (await condition(
        () => run.pendingSignal !== undefined || run.cancelRequested || run.rescheduled,
        wait,
        {
          summary: 'wait for a status webhook, then poll',
        },
      ));
    if (run.cancelRequested || run.rescheduled) continue;

    const message = {
      jobId: input.jobId,
      attemptNo: state.attempt,
      messageId: state.messageId!,
      recipient: state.recipient,
      ...(run.known && { known: run.known }),
    };
    let observation: FaxStatusObservation;
    let source: 'webhook' | 'poll';
    /** Runs from before the one write path: their `checkFaxStatus` already recorded the poll. */
    let recorded = false;
    if (woken && run.pendingSignal) {
      const signal = run.pendingSignal;
      run.pendingSignal = undefined;
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
      run.webhooksHealthy = observation.webhooksHealthy === true;
      interval = Math.min(interval * policy.pollGrowth, policy.pollMaxMs);
    }

    if (isForwardMove(run.known, observation.status)) {
      if (!recorded) {
        const { webhooksHealthy: _, ...seen } = observation;
        await bookkeeping.recordFaxObservation({ ...message, observation: seen, source });
      }
      run.known = observation.status;
      if (run.known === 'Sent') {
        sentAtMs = Date.now();
        setStatus(run, 'Sent');
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
    if (Date.now() >= run.deadline) return { kind: 'expired' };
  }
}
