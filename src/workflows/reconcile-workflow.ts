import { condition, continueAsNew, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { faxesChangedSignal } from '../contracts/workflow-messages';
import type { ReconcileWorkflowInput } from '../contracts/workflow-types';

const reconcile = proxyActivities<FaxActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const ROUNDS_PER_RUN = 200;
/** Announced ids no attempt had recorded yet get this many follow-up rounds. */
const FOLLOW_UPS = 3;

/**
 * Coalesces "faxes changed" notifications for one credential: however many arrive, at most one
 * reconcile (one RingCentral list call) runs per `coalesceMs`. Started on demand by the webhook
 * receiver with signal-with-start, so exactly one runs per credential.
 */
export async function ReconcileWorkflow(input: ReconcileWorkflowInput): Promise<never> {
  const coalesceMs = input.coalesceMs ?? 1_000;
  let pending = input.pendingIds !== undefined;
  let newIds = new Set<string>(input.pendingIds ?? []);
  setHandler(faxesChangedSignal, (change) => {
    pending = true;
    for (const id of change.newMessageIds ?? []) newIds.add(id);
  });

  const followUps = new Map<string, number>();
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    await condition(() => pending);
    // Let a burst of notifications gather into one list call.
    await sleep(coalesceMs, { summary: 'gather a burst of notifications' });
    pending = false;
    const ids = [...newIds];
    newIds = new Set();
    const result = await reconcile.reconcileFaxStatuses({ newMessageIds: ids });
    // A new fax can be announced before its send activity recorded the id: look again shortly.
    for (const id of result.unmatchedNewIds) {
      const n = (followUps.get(id) ?? 0) + 1;
      if (n > FOLLOW_UPS) continue;
      followUps.set(id, n);
      newIds.add(id);
      pending = true;
    }
  }
  // Carry what is still to do into the next run so no notification is dropped at the boundary.
  return continueAsNew<typeof ReconcileWorkflow>({
    ...input,
    ...(pending && { pendingIds: [...newIds] }),
  });
}
