import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import {
  SLOW_SEND_MS,
  type DeliveryStatusSignal,
  type FaxStatusObservation,
  type FaxWorkflowInput,
  type FaxWorkflowResult,
} from '../contracts/workflow-types';
import { isForwardMove, isMessageFinal, type RingCentralMessageStatus } from '../domain/fax-status';
import { BOOKKEEPING, bookkeeping } from './fax-activities';
import { connectionUnavailable, waitForConnection } from './fax-connection-wait';
import { jobRef, resumeStateOf, setStatus, upsertStatus, type FaxRun } from './fax-run';
import { applied, HANDLER_RESULTS_KEPT, WORKFLOW_RECORDS_POLLS, EARLY_STATUS } from './fax-patches';

export type WaitOutcome =
  | { kind: 'final'; status: RingCentralMessageStatus; faxErrorCode?: string }
  | { kind: 'sent-unconfirmed' }
  | { kind: 'expired' }
  | { kind: 'canceled' }
  | { kind: 'rescheduled' };

/** Bounds the early-signal buffer: statuses for earlier attempts' messages land there too. */
const EARLY_SIGNALS_KEPT = 20;

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
  // The send (an adopted one) or a resumed run may already know a status that needs a decision:
  // Sent (final on some accounts) or a final one. Look at once instead of after a poll interval.
  let lookNow = run.known !== undefined && run.known !== 'Queued' && applied(run, EARLY_STATUS);
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
      // A cancel or reschedule that completed while the handlers finished changes what this run
      // does next: act on it here instead of handing a stale state to the successor (issue 8 #10).
      if (applied(run, HANDLER_RESULTS_KEPT) && (run.cancelRequested || run.rescheduled)) continue;
      // A status not shown yet (quietQueued) is shown before the search attributes carry over:
      // the successor starts with no pending attribute (FaxMessageId goes out with Queued).
      if (run.unshownSince !== undefined) upsertStatus(run);
      // The successor also gets the status signal not yet acted on and the webhook-health flag.
      await continueAsNew<FaxWorkflowFn>({ ...input, resume: resumeStateOf(run, sentAtMs) });
    }

    // A fax RingCentral holds for its send time has nothing to report before then.
    const holdUntil = run.mode === 'ringcentral' && run.sendAtMs !== undefined ? run.sendAtMs : -Infinity;
    const quietEnds = sentAtMs === undefined ? Infinity : sentAtMs + policy.sentQuietPeriodMs;
    // With healthy webhooks a signal will come; polling then only guards against a lost one.
    const pollIn = run.webhooksHealthy ? Math.max(interval, policy.pollWithWebhooksMs) : interval;
    const wait = lookNow
      ? 0
      : Math.min(
          Math.max(pollIn, holdUntil - Date.now() + pollIn),
          run.deadline - Date.now(),
          quietEnds - Date.now(),
        );
    lookNow = false;
    state.next = { action: 'check status', at: new Date(Date.now() + Math.max(wait, 0)).toISOString() };
    const woken = wait > 0 && (await waitForSignal(run, wait));
    // Woken by `webhooksDown` (only ever set by that signal, so older histories never see it): the
    // poll below runs now; its answer says whether webhooks count as healthy again.
    run.webhooksDown = false;
    if (run.cancelRequested || run.rescheduled) continue;

    const message = {
      ...jobRef(run),
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
      try {
        if (applied(run, WORKFLOW_RECORDS_POLLS)) {
          observation = await bookkeeping.readFaxStatus.executeWithOptions(poll, [message]);
        } else {
          observation = await bookkeeping.checkFaxStatus.executeWithOptions(poll, [message]);
          recorded = true;
        }
      } catch (err) {
        // The fax is on its way; only reading its status waits for the tenant to reconnect.
        const unavailable = connectionUnavailable(err);
        if (!unavailable) throw err;
        if ((await waitForConnection(run, unavailable, false, err)) === 'expired') return { kind: 'expired' };
        lookNow = true;
        continue;
      }
      source = 'poll';
      run.webhooksHealthy = observation.webhooksHealthy === true;
      interval = Math.min(interval * policy.pollGrowth, policy.pollMaxMs);
    }

    let sentIsFinal = observation.sentIsFinal;
    if (isForwardMove(run.known, observation.status)) {
      if (!recorded) {
        const { webhooksHealthy: _, sentIsFinal: __, ...seen } = observation;
        // Runs from before Sent could be final recorded no answer here (undefined on replay).
        const answer = await bookkeeping.recordFaxObservation({ ...message, observation: seen, source });
        sentIsFinal ??= answer?.sentIsFinal;
      }
      run.known = observation.status;
      if (run.known === 'Sent') {
        sentAtMs = Date.now();
        setStatus(run, 'Sent');
      }
    }
    // The activity decided from what it knows of the account; the answer is in history, so replay
    // takes the same branch.
    if (observation.status === 'Sent' && sentIsFinal === true && !observation.faxErrorCode) {
      return { kind: 'final', status: 'Sent' };
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

/**
 * Waits up to `wait` for what ends a status wait (a status signal, a cancel, a reschedule, webhooks
 * reported down); true when one came. A status set brief (`quietQueued`) that has not come to an
 * end by `SLOW_SEND_MS` is upserted then: the first part of the wait runs on a timer until that
 * moment, the rest on a second one. A fax whose outcome comes sooner starts one timer, as before.
 */
async function waitForSignal(run: FaxRun, wait: number): Promise<boolean> {
  const signalled = () =>
    run.pendingSignal !== undefined || run.cancelRequested || run.rescheduled || run.webhooksDown;
  const showIn = run.unshownSince === undefined ? Infinity : run.unshownSince + SLOW_SEND_MS - Date.now();
  let rest = wait;
  if (showIn < wait) {
    // The wait ends when it would have: a show timer that fires late (no worker was polling) must
    // not push the poll, the kill time or the end of the quiet period back by as much.
    const endsAt = Date.now() + wait;
    const status = run.state.status;
    if (showIn > 0 && (await condition(signalled, showIn, { summary: `show ${status} once it lasts` })))
      return true;
    upsertStatus(run);
    rest = endsAt - Date.now();
    if (rest <= 0) return signalled();
  }
  return await condition(signalled, rest, { summary: 'wait for a status webhook, then poll' });
}

/** The deliveryStatus handler while a send is in flight: keep the most advanced status per id. */
export function bufferEarlySignal(run: FaxRun, signal: DeliveryStatusSignal): void {
  const held = run.earlySignals.get(signal.messageId);
  if (held && !isForwardMove(held.status, signal.status)) return;
  run.earlySignals.delete(signal.messageId);
  run.earlySignals.set(signal.messageId, signal);
  const oldest = run.earlySignals.keys().next().value;
  if (run.earlySignals.size > EARLY_SIGNALS_KEPT && oldest !== undefined) run.earlySignals.delete(oldest);
}

/** After a send: the status that came for its message while it was in flight, if any. */
export function takeEarlySignal(run: FaxRun, messageId: string): DeliveryStatusSignal | undefined {
  const early = run.earlySignals.get(messageId);
  run.earlySignals.clear();
  if (!early || !isForwardMove(run.known, early.status)) return undefined;
  // Older runs dropped it; the patch keeps their replay on the old path.
  return applied(run, EARLY_STATUS) ? early : undefined;
}
