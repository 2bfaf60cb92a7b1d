import {
  ChildWorkflowFailure,
  executeChild,
  setHandler,
  workflowInfo,
  ParentClosePolicy,
  patched,
} from '@temporalio/workflow';
import { isSuccessStatus, type FaxJobStatus } from '../domain/fax-status';
import { FaxWorkflow } from './fax-workflow';
import { bookkeeping } from './fax-activities';
import {
  broadcastJobId,
  faxWorkflowId,
  legacyBroadcastJobId,
  legacyFaxWorkflowId,
} from '../contracts/workflow-ids';
import { ConnectionIdKey, FaxRecipientKey, FaxStatusKey, TenantIdKey } from '../contracts/search-attributes';
import { DEFAULT_TENANT_ID } from '../domain/tenant-id';
import { broadcastStatusQuery } from '../contracts/workflow-messages';
import type {
  FaxBroadcastInput,
  FaxBroadcastResult,
  FaxBroadcastState,
  FaxWorkflowInput,
  FaxWorkflowResult,
} from '../contracts/workflow-types';

const BROADCAST_CHILD_TILDE = 'broadcast-child-ids-tilde';
const BROADCAST_COMPLETED_EVENT = 'broadcast-completed-event';

/**
 * From this patch on, children's workflow ids are scoped by tenant (`fax-<tenant>-<key>~<n>`) and
 * carry the ConnectionId search attribute; broadcasts started before keep `fax-<key>~<n>`.
 */
const TENANT_SCOPED_CHILDREN = 'broadcast-children-tenant-scoped';

/**
 * One document set to many recipients: a child `FaxWorkflow` per recipient (each with its own
 * validation, redials and record), and a report of partial success once every child has ended.
 * Children are abandoned rather than cancelled if the broadcast itself is closed, so a fax in
 * flight is still followed to its end.
 */
export async function FaxBroadcastWorkflow(input: FaxBroadcastInput): Promise<FaxBroadcastResult> {
  const results: (FaxWorkflowResult | undefined)[] = input.recipients.map(() => undefined);
  const state = (): FaxBroadcastState => {
    const counts: Partial<Record<FaxJobStatus, number>> = {};
    for (const r of results) if (r) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return {
      broadcastId: input.broadcastId,
      total: input.recipients.length,
      finished: results.filter(Boolean).length,
      counts,
    };
  };
  setHandler(broadcastStatusQuery, state);

  // Broadcasts started before this patch keep their children's `<key>.<n>` ids (the child workflow
  // ids are in their histories); new ones use `<key>~<n>`, which no single fax's key can equal.
  const jobIdOf = patched(BROADCAST_CHILD_TILDE) ? broadcastJobId : legacyBroadcastJobId;
  const scoped = patched(TENANT_SCOPED_CHILDREN);
  const tenantId = input.tenantId ?? DEFAULT_TENANT_ID;
  const workflowIdOf = (jobId: string) =>
    scoped ? faxWorkflowId(jobId, tenantId) : legacyFaxWorkflowId(jobId);
  const { recipients, broadcastId, ...common } = input;
  await Promise.all(
    recipients.map(async (recipient, index) => {
      const jobId = jobIdOf(broadcastId, index);
      const child: FaxWorkflowInput = {
        ...common,
        jobId,
        to: recipient.to,
        ...(recipient.name && { recipientName: recipient.name }),
      };
      try {
        results[index] = await executeChild(FaxWorkflow, {
          workflowId: workflowIdOf(jobId),
          args: [child],
          taskQueue: workflowInfo().taskQueue,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [
            { key: FaxStatusKey, value: 'Accepted' },
            // A child with `mergedUpserts` (broadcasts from faxflow's client pass their flags on)
            // upserts FaxRecipient only if validation normalises the number: the start sets it.
            ...(input.mergedUpserts ? [{ key: FaxRecipientKey, value: recipient.to }] : []),
            ...(scoped
              ? [
                  { key: TenantIdKey, value: tenantId },
                  ...(input.connectionId ? [{ key: ConnectionIdKey, value: input.connectionId }] : []),
                ]
              : input.tenantId
                ? [{ key: TenantIdKey, value: input.tenantId }]
                : []),
          ],
        });
      } catch (err) {
        // A child that failed as a workflow (a bug, a termination) still counts in the report.
        if (!(err instanceof ChildWorkflowFailure)) throw err;
        results[index] = {
          jobId,
          status: 'Failed',
          recipient: recipient.to,
          attempts: 0,
          errorCode: 'CHILD_FAILED',
          errorMessage: err.cause?.message ?? err.message,
        };
      }
    }),
  );

  const final = results as FaxWorkflowResult[];
  // Upstream webhooks hear `broadcast.completed` (broadcasts started before this patch end without it).
  if (patched(BROADCAST_COMPLETED_EVENT)) {
    await bookkeeping.recordBroadcastCompleted({
      broadcastId,
      tenantId: input.tenantId ?? null,
      jobIds: final.map((r) => r.jobId),
    });
  }
  const succeeded = final.filter((r) => isSuccessStatus(r.status)).length;
  return { ...state(), succeeded, failed: final.length - succeeded, results: final };
}
