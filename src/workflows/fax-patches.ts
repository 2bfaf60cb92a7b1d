import { patched } from '@temporalio/workflow';
import type { FaxRun } from './fax-run';

// FaxWorkflow's patches. Each `patched()` call records a marker the first time, and the TypeScript
// SDK also upserts the TemporalChangeVersion search attribute with it: a visibility write per patch
// per run on the Temporal server.

/** Continue-as-new waits for handlers, then re-checks what they decided before handing over. */
export const HANDLER_RESULTS_KEPT = 'continue-as-new-keeps-handler-results';

/**
 * From this patch on, a polled status is recorded by `recordFaxObservation`, like a webhook's,
 * instead of inside the poll (`checkFaxStatus`, still used when replaying older runs).
 */
export const WORKFLOW_RECORDS_POLLS = 'workflow-records-polls';

/**
 * From this patch on, a status that arrived while the send was in flight is kept for its message
 * id and applied once the send returns it (adopted sends always lost it and waited for a poll up
 * to 10 min away), and a status already known to need a decision is looked at without a sleep.
 */
export const EARLY_STATUS = 'early-status';

/**
 * From this patch on the outcome is recorded in a non-cancellable scope: a workflow cancellation
 * that arrives while `recordJobStatus` runs would otherwise cancel that activity, and the error
 * handler would then record `Canceled` over a fax that was already `Delivered`.
 */
export const FINISH_NOT_CANCELLABLE = 'finish-not-cancellable';

/**
 * From this patch on, cancelling the workflow while RingCentral holds the fax deletes the message
 * (cancelScheduledFax). Runs recorded before it followed the held fax to its end instead.
 */
export const CANCEL_DELETES_HELD = 'cancel-deletes-held-message';

/**
 * From this patch on, an activity that finds the job's RingCentral connection unusable (the tenant
 * must reconnect) makes the job wait with status `WaitingForConnection` instead of failing. Runs
 * recorded before it never saw that failure type; the marker only tells replays which code ran.
 */
export const WAIT_FOR_CONNECTION = 'wait-for-connection';

/**
 * The patches above, all of which runs started with `input.quietStatuses` have from their start:
 * that flag came after them, so no code without them ever recorded such a run's history, and those
 * runs take the patched branches without a marker (and its TemporalChangeVersion upsert). A patch
 * added from now on is not in this set: it goes through `patched()` for every run.
 */
const IN_EVERY_QUIET_RUN: ReadonlySet<string> = new Set([
  HANDLER_RESULTS_KEPT,
  WORKFLOW_RECORDS_POLLS,
  EARLY_STATUS,
  FINISH_NOT_CANCELLABLE,
  CANCEL_DELETES_HELD,
  WAIT_FOR_CONNECTION,
]);

/** Whether the run takes a patch's new branch (see `IN_EVERY_QUIET_RUN`). */
export function applied(run: FaxRun, patchId: string): boolean {
  return (run.quietStatuses && IN_EVERY_QUIET_RUN.has(patchId)) || patched(patchId);
}
