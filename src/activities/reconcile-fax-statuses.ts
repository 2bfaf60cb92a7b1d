import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  isForwardMove,
  RINGCENTRAL_MESSAGE_STATUSES,
  type RingCentralMessageStatus,
} from '../domain/fax-status';
import { listInFlightAttempts } from '../db/fax-attempts';
import { closeJobsOfClosedWorkflows, databaseNow } from '../db/reconcile-sweep';
import { deliveryStatusSignal } from '../contracts/workflow-messages';
import type { DeliveryStatusSignal } from '../contracts/workflow-types';
import { observeFaxMessage } from '../ringcentral/fax-observation';
import { signalWorkflows } from '../webhooks/signal-open-jobs';
import { learnFromStatus } from './delivery-reports';
import { connectionKey, ringCentralFor } from './connection';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export interface ReconcileFaxStatusesArgs {
  /** The connection the reconciler serves (absent: the worker's own credential). */
  credentialKey?: string;
  /** The list never reaches further back than this (a job's kill time plus a margin). Default 25 h. */
  maxWindowMs?: number;
  /** Attempts in flight longer than this get their workflow described, to sweep closed ones. Default 1 h. */
  sweepAfterMs?: number;
  /** Message ids a notification announced as new (may not be recorded by a send yet). */
  newMessageIds?: string[];
}

export interface ReconcileFaxStatusesResult {
  pending: number;
  listed: number;
  signalled: number;
  /** Jobs closed because their workflow had ended without recording an outcome. */
  swept?: number;
  /** Announced ids no attempt has recorded yet: worth one more reconcile shortly. */
  unmatchedNewIds: string[];
}

/** Clock skew allowed between our attempt start and RingCentral's creationTime. */
const SKEW_MS = 2 * 60_000;
/** Default kill time (24 h) plus a margin: no fax older than this can still be followed. */
const MAX_WINDOW_MS = 25 * 3600_000;
const SWEEP_AFTER_MS = 3600_000;
/** Workflows described per call: sweeping is a side job, spread over calls. */
const SWEEP_PER_CALL = 20;

/**
 * Turns "faxes changed" into signals. A RingCentral notification carries no statuses, so this
 * makes ONE list call for every outbound fax created since the oldest attempt still in flight,
 * compares each with what Postgres knows, and signals `deliveryStatus` to each workflow whose fax
 * moved forward. Duplicate, late or reordered notifications only cause a redundant comparison.
 */
export function createReconcileFaxStatuses(deps: ActivityDeps) {
  const { db } = deps;
  return async function reconcileFaxStatuses(
    args: ReconcileFaxStatusesArgs,
  ): Promise<ReconcileFaxStatusesResult> {
    const credentialKey = connectionKey(deps, args.credentialKey);
    const ringcentral = await ringCentralFor(deps, args.credentialKey);
    const client = Context.current().client;
    const now = (await databaseNow(db)).getTime();
    let pending = await listInFlightAttempts(db, credentialKey);
    const swept = await sweepClosed(pending, now - (args.sweepAfterMs ?? SWEEP_AFTER_MS));
    if (swept.size > 0) pending = pending.filter((p) => !swept.has(p.workflow_id));
    const recorded = new Set(pending.map((p) => p.message_id).filter(Boolean));
    const unmatchedNewIds = (args.newMessageIds ?? []).filter((id) => !recorded.has(id));
    if (pending.length === 0) {
      return { pending: 0, listed: 0, signalled: 0, swept: swept.size, unmatchedNewIds };
    }

    // A job whose workflow died without closing its row must not drag the window back for ever.
    const oldest = Math.min(...pending.map((p) => p.started_at.getTime()));
    const dateFrom = Math.max(oldest - SKEW_MS, now - (args.maxWindowMs ?? MAX_WINDOW_MS));
    let faxes;
    try {
      faxes = await ringcentral.listOutboundFaxes({ dateFrom: new Date(dateFrom) });
    } catch (err) {
      throw toApplicationFailure(err);
    }
    // A job that ended at Sent is no longer followed, so the listing is where an account that
    // reports delivery shows it to the `auto` mode (see delivery-reports.ts).
    const report = faxes.find((f) => f.messageStatus === 'Delivered' || f.messageStatus === 'DeliveryFailed');
    if (report) await learnFromStatus(deps, credentialKey, report.id, report.messageStatus);
    const byId = new Map(faxes.map((f) => [f.id, f]));
    const moved: { workflowId: string; signal: DeliveryStatusSignal }[] = [];
    for (const attempt of pending) {
      const fax = attempt.message_id ? byId.get(attempt.message_id) : undefined;
      if (!fax) continue;
      const observation = observeFaxMessage(fax, attempt.recipient);
      const known = RINGCENTRAL_MESSAGE_STATUSES.includes(attempt.status as RingCentralMessageStatus)
        ? (attempt.status as RingCentralMessageStatus)
        : undefined;
      if (!isForwardMove(known, observation.status)) continue;
      moved.push({
        workflowId: attempt.workflow_id,
        signal: {
          messageId: fax.id,
          status: observation.status,
          ...(observation.faxErrorCode && { faxErrorCode: observation.faxErrorCode }),
        },
      });
    }
    const signalled = await signalWorkflows(
      client,
      deliveryStatusSignal,
      moved.map(({ workflowId, signal }) => ({ workflowId, arg: signal })),
    );
    return { pending: pending.length, listed: faxes.length, signalled, swept: swept.size, unmatchedNewIds };
  };

  /** Describes the workflows of the oldest attempts still in flight and closes the rows of ended ones. */
  async function sweepClosed(
    pending: { workflow_id: string; started_at: Date }[],
    startedBefore: number,
  ): Promise<Set<string>> {
    const stale = pending
      .filter((p) => p.started_at.getTime() < startedBefore)
      .sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    const ids = [...new Set(stale.map((p) => p.workflow_id))].slice(0, SWEEP_PER_CALL);
    const client = Context.current().client;
    const closed: { workflowId: string; closeStatus: string }[] = [];
    for (const workflowId of ids) {
      try {
        const d = await client.workflow.getHandle(workflowId).describe();
        if (d.status.name !== 'RUNNING') closed.push({ workflowId, closeStatus: d.status.name });
      } catch (err) {
        // Gone from Temporal altogether (retention passed): closed too.
        if (err instanceof WorkflowNotFoundError) closed.push({ workflowId, closeStatus: 'NOT_FOUND' });
        else throw err;
      }
    }
    await closeJobsOfClosedWorkflows(db, closed);
    return new Set(closed.map((c) => c.workflowId));
  }
}
