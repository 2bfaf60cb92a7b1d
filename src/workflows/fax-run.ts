import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { FaxStatusKey } from '../contracts/search-attributes';
import {
  DEFAULT_POLICY,
  type CancelFaxResult,
  type DeliveryStatusSignal,
  type FaxPolicy,
  type FaxTimelineEntry,
  type FaxResumeState,
  type FaxWorkflowInput,
  type FaxWorkflowState,
} from '../contracts/workflow-types';
import type { FaxJobStatus, RingCentralMessageStatus } from '../domain/fax-status';
import { sendAtProblem } from '../domain/send-time';
import type { DocumentRef } from '../storage/document-store';

export type Phase =
  | 'validating'
  | 'scheduled'
  /** Waiting for the RingCentral connection before a send: nothing was transmitted, so cancellable. */
  | 'connection-wait'
  | 'sending'
  | 'in-flight'
  | 'redial-wait'
  | 'done';

/**
 * Everything one FaxWorkflow run knows and decides on. The workflow's steps, its message handlers
 * and its status wait share this one object (workflow code is single-threaded: no locking).
 */
export interface FaxRun {
  readonly input: FaxWorkflowInput;
  /** The job's row in `fax_jobs`: its workflow id (`input.jobId` is its key within the tenant). */
  readonly rowId: string;
  readonly policy: FaxPolicy;
  readonly mode: 'timer' | 'ringcentral';
  /** What the `status` query answers. */
  readonly state: FaxWorkflowState;
  phase: Phase;
  documents: DocumentRef[];
  /** The last status of the current message that was acted on. */
  known: RingCentralMessageStatus | undefined;
  failedAttempts: number;
  sendAtMs: number | undefined;
  /** The kill time: no final status by then ends the job as Expired. */
  deadline: number;
  pendingSignal: DeliveryStatusSignal | undefined;
  /** Statuses that arrived while a send was in flight, by message id (see fax-status-wait.ts). */
  earlySignals: Map<string, DeliveryStatusSignal>;
  /** Status webhooks are flowing (as last reported by an activity): polling is only a safety net. */
  webhooksHealthy: boolean;
  cancelRequested: boolean;
  rescheduled: boolean;
  /** A `connectionRestored` signal arrived since the job began waiting for its connection. */
  connectionRestored: boolean;
  /** A `webhooksDown` signal arrived and the status wait has not polled since: poll at once. */
  webhooksDown: boolean;
  cancelling: Promise<CancelFaxResult> | undefined;
  /** Why the input's `sendAt` is unusable (a start from the Temporal UI skips the client's checks). */
  sendAtProblem: string | undefined;
  /** Search attributes that go out with the next status change (input.mergedUpserts). */
  pendingAttributes: SearchAttributeUpdatePair[] | undefined;
  /** `input.quietStatuses`: FaxStatus is upserted only where a status lasts (see `setStatus`). */
  readonly quietStatuses: boolean;
  /** FaxStatus as this run last upserted it (undefined before its first upsert). */
  upsertedStatus: FaxJobStatus | undefined;
  /** `input.quietQueued`: Queued goes to FaxStatus only once it has lasted (see fax-status-wait.ts). */
  readonly quietQueued: boolean;
  /** With `quietQueued`: since when the current status, set brief, is not in FaxStatus yet. */
  unshownSince: number | undefined;
}

/** A fresh run, or the continuation of one that continued as new (`input.resume`). */
export function startRun(input: FaxWorkflowInput): FaxRun {
  const resume = input.resume;
  // `new Date(NaN).toISOString()` throws a RangeError, and an error thrown by workflow code fails
  // the workflow task, which Temporal retries for ever: a bad sendAt must become a rejection.
  const problem =
    !resume && input.sendAt !== undefined
      ? typeof input.sendAt === 'string'
        ? sendAtProblem(input.sendAt, workflowInfo().startTime.getTime())
        : 'sendAt must be an ISO 8601 string.'
      : undefined;
  const parsed = input.sendAt && !problem ? Date.parse(input.sendAt) : undefined;
  const quietStatuses = input.quietStatuses === true && input.mergedUpserts === true;
  const sendAtMs = resume?.sendAtMs ?? parsed;
  const state: FaxWorkflowState = {
    jobId: input.jobId,
    // A successor goes on following its message: Sent once RingCentral said so, else Queued.
    status: resume ? (resume.known === 'Sent' ? 'Sent' : 'Queued') : 'Accepted',
    recipient: resume?.recipient ?? input.to,
    attempt: resume?.attempt ?? 0,
    timeline: resume?.timeline ?? [{ at: nowIso(), status: 'Accepted' }],
    ...(resume && { messageId: resume.messageId }),
  };
  if (sendAtMs !== undefined) state.sendAt = new Date(sendAtMs).toISOString();
  return {
    input,
    rowId: workflowInfo().workflowId,
    policy: { ...DEFAULT_POLICY, ...input.policy },
    mode: input.schedule ?? 'timer',
    state,
    phase: resume ? 'in-flight' : 'validating',
    documents: resume?.documents ?? input.documents,
    known: resume?.known,
    failedAttempts: resume?.failedAttempts ?? 0,
    sendAtMs,
    deadline: resume?.deadline ?? Infinity,
    pendingSignal: resume?.pendingSignal,
    earlySignals: new Map(),
    webhooksHealthy: resume?.webhooksHealthy === true,
    cancelRequested: false,
    rescheduled: false,
    connectionRestored: false,
    webhooksDown: false,
    cancelling: undefined,
    sendAtProblem: problem,
    pendingAttributes: input.mergedUpserts ? [] : undefined,
    quietStatuses,
    upsertedStatus: undefined,
    quietQueued: input.quietQueued === true && quietStatuses,
    unshownSince: undefined,
  };
}

/**
 * A search attribute that changes with the status: with `input.mergedUpserts` it goes out in the
 * same upsert as the next `setStatus`, which every caller reaches in the same workflow task;
 * otherwise at once, as runs started without the flag always did.
 */
export function searchAttributeSoon(run: FaxRun, pair: SearchAttributeUpdatePair): void {
  if (run.pendingAttributes) run.pendingAttributes.push(pair);
  else upsertSearchAttributes([pair]);
}

/**
 * What every job activity is told about the job: its row (the workflow id) and, for jobs that have
 * one, the RingCentral connection that sends it.
 */
export function jobRef(run: FaxRun): { jobId: string; connectionId?: string } {
  const { connectionId } = run.input;
  return { jobId: run.rowId, ...(connectionId !== undefined && { connectionId }) };
}

/** A successor carries the recent timeline only, so its input stays small. */
const TIMELINE_CARRIED = 50;

/**
 * What a run hands to its successor (continue-as-new): everything the status wait acts on,
 * including a status signal not yet acted on and the webhook-health flag, which startRun restores.
 */
export function resumeStateOf(run: FaxRun, sentAtMs: number | undefined): FaxResumeState {
  const { state } = run;
  return {
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
    ...(run.pendingSignal && { pendingSignal: run.pendingSignal }),
    ...(run.webhooksHealthy && { webhooksHealthy: true }),
  };
}

/**
 * A new job status: on the timeline (the `status` query) at once, and in the FaxStatus search
 * attribute. With `input.quietStatuses` the attribute is upserted only where the status lasts: not
 * again when it already holds this status (`Sent` observed, then `Sent` as the final outcome), and
 * not for a status the caller marks `brief` (`Sending`, upserted by `upsertStatus` only when the
 * send is still running after a few seconds; with `quietQueued` also `Queued`, upserted by the
 * status wait once it has lasted as long). Each upsert is a history event and a visibility write.
 */
export function setStatus(
  run: FaxRun,
  status: FaxJobStatus,
  extra: Partial<FaxTimelineEntry> = {},
  opts: { brief?: boolean } = {},
): void {
  const { state } = run;
  state.status = status;
  state.timeline.push({
    at: nowIso(),
    status,
    ...(state.attempt > 0 && { attempt: state.attempt }),
    ...(state.messageId && { messageId: state.messageId }),
    ...extra,
  });
  if (run.quietStatuses && opts.brief) {
    if (run.quietQueued) run.unshownSince = Date.now();
    return;
  }
  upsertStatus(run);
}

/** Upserts FaxStatus (the current status) with any pending attribute, unless quiet and unchanged. */
export function upsertStatus(run: FaxRun): void {
  const status = run.state.status;
  run.unshownSince = undefined;
  if (run.quietStatuses && status === run.upsertedStatus && !run.pendingAttributes?.length) return;
  upsertSearchAttributes([{ key: FaxStatusKey, value: status }, ...(run.pendingAttributes?.splice(0) ?? [])]);
  run.upsertedStatus = status;
}

/** Whether RingCentral still holds our message for its send time (schedule: 'ringcentral'). */
export function heldByRingCentral(run: FaxRun): boolean {
  return (
    run.mode === 'ringcentral' &&
    run.phase === 'in-flight' &&
    run.known === 'Queued' &&
    run.sendAtMs !== undefined &&
    Date.now() < run.sendAtMs
  );
}

export function workflowStartIso(): string {
  return new Date(workflowInfo().startTime).toISOString();
}

export function nowIso(): string {
  // Date.now() inside a workflow is the deterministic workflow clock (the task's start time).
  return new Date(Date.now()).toISOString();
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
