import { condition, continueAsNew, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { faxesChangedSignal } from '../contracts/workflow-messages';
import { DEFAULT_RECONCILE_COALESCE_MS, type ReconcileWorkflowInput } from '../contracts/workflow-types';
import { connectionUnavailable } from './connection-failure';

const reconcile = proxyActivities<FaxActivities>({
  startToCloseTimeout: '2 minutes',
  // A task lost with a dead worker or a restarted server is retried in seconds, not at the timeout.
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const ROUNDS_PER_RUN = 200;
/** Announced ids no attempt had recorded yet get this many follow-up rounds. */
const FOLLOW_UPS = 3;
/** At most this many ids are carried into the next run (the newest ones). */
const MAX_CARRIED_IDS = 1_000;

/**
 * Coalesces "faxes changed" notifications for one credential: however many arrive, at most one
 * reconcile (one RingCentral list call) runs per `coalesceMs`. Started on demand by the webhook
 * receiver with signal-with-start, so exactly one runs per credential.
 */
export async function ReconcileWorkflow(input: ReconcileWorkflowInput): Promise<never> {
  const coalesceMs = input.coalesceMs ?? DEFAULT_RECONCILE_COALESCE_MS;
  const roundsPerRun = input.roundsPerRun ?? ROUNDS_PER_RUN;
  let pending = input.pendingIds !== undefined;
  let newIds = new Set<string>(input.pendingIds ?? []);
  setHandler(faxesChangedSignal, (change) => {
    pending = true;
    for (const id of change.newMessageIds ?? []) newIds.add(id);
  });

  // The rounds each id already had travel with it through continue-as-new: an id that never
  // matches (a fax sent by hand, another fleet's) is dropped after FOLLOW_UPS, not carried for ever.
  const followUps = new Map<string, number>(Object.entries(input.followUps ?? {}));
  for (let round = 0; round < roundsPerRun; round++) {
    await condition(() => pending);
    // Let a burst of notifications gather into one list call.
    await sleep(coalesceMs, { summary: 'gather a burst of notifications' });
    pending = false;
    const ids = [...newIds];
    newIds = new Set();
    let result;
    try {
      result = await reconcile.reconcileFaxStatuses({
        credentialKey: input.credentialKey,
        newMessageIds: ids,
      });
    } catch (err) {
      // The connection needs reconnecting: nothing can be listed until it is back. Keep the ids and
      // look again with the next notification (its subscription only delivers once it works).
      const unavailable = connectionUnavailable(err);
      if (!unavailable) throw err;
      for (const id of ids) newIds.add(id);
      continue;
    }
    // A new fax can be announced before its send activity recorded the id: look again shortly.
    const unmatched = new Set(result.unmatchedNewIds);
    for (const id of ids) if (!unmatched.has(id)) followUps.delete(id);
    for (const id of result.unmatchedNewIds) {
      const n = (followUps.get(id) ?? 0) + 1;
      if (n > FOLLOW_UPS) {
        followUps.delete(id);
        continue;
      }
      followUps.set(id, n);
      newIds.add(id);
      pending = true;
    }
  }
  // Carry what is still to do into the next run so no notification is dropped at the boundary.
  const carried = [...newIds].slice(-MAX_CARRIED_IDS);
  return continueAsNew<typeof ReconcileWorkflow>({
    credentialKey: input.credentialKey,
    ...(input.coalesceMs !== undefined && { coalesceMs: input.coalesceMs }),
    ...(input.roundsPerRun !== undefined && { roundsPerRun: input.roundsPerRun }),
    ...(pending && {
      pendingIds: carried,
      followUps: Object.fromEntries(
        carried.flatMap((id) => (followUps.has(id) ? [[id, followUps.get(id)!]] : [])),
      ),
    }),
  });
}
