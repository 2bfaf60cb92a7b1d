import { condition, continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { subscriptionCheckSignal, subscriptionStateQuery } from '../contracts/workflow-messages';
import type { SubscriptionWorkflowInput, SubscriptionWorkflowState } from '../contracts/workflow-types';

const upkeep = proxyActivities<FaxActivities>({
  startToCloseTimeout: '1 minute',
  // RingCentral's handshake against our receiver can fail while it starts: keep trying, gently.
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Checks per run before continuing as new: each check is a handful of events. */
const CHECKS_PER_RUN = 100;

/**
 * Keeps one RingCentral webhook subscription alive for one credential, for ever: creates it,
 * renews it well before it expires, and replaces it when RingCentral blacklists or forgets it.
 * Operators read its state with the `state` query; `checkNow` makes it look at once.
 */
export async function SubscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<never> {
  const expiresInSeconds = input.expiresInSeconds ?? 7 * 24 * 3600;
  const renewBeforeMs = input.renewBeforeMs ?? 24 * 3600_000;
  const checkEveryMs = input.checkEveryMs ?? 15 * 60_000;
  const state: SubscriptionWorkflowState = {
    credentialKey: input.credentialKey,
    address: input.address,
    ...(input.subscriptionId && { subscriptionId: input.subscriptionId }),
    checks: 0,
    history: [],
  };
  let checkRequested = false;
  setHandler(subscriptionStateQuery, () => state);
  setHandler(subscriptionCheckSignal, () => {
    checkRequested = true;
  });

  for (let i = 0; i < CHECKS_PER_RUN; i++) {
    checkRequested = false;
    const r = await upkeep.ensureSubscription.executeWithOptions(
      {
        startToCloseTimeout: '1 minute',
        retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
        summary: state.subscriptionId
          ? `check subscription ${state.subscriptionId}`
          : 'create the webhook subscription',
      },
      [
        {
          address: input.address,
          expiresInSeconds,
          renewBeforeMs,
          ...(state.subscriptionId && { subscriptionId: state.subscriptionId }),
        },
      ],
    );
    state.subscriptionId = r.subscriptionId;
    state.status = r.status;
    state.expiresAt = r.expiresAt;
    state.lastCheckAt = new Date(Date.now()).toISOString();
    state.checks++;
    if (r.action !== 'unchanged') {
      state.history = [
        ...state.history,
        {
          at: state.lastCheckAt,
          action: r.action,
          subscriptionId: r.subscriptionId,
          ...(r.reason && { reason: r.reason }),
        },
      ].slice(-20);
    }
    // Check again at the next regular check, or when the renewal window opens if that is sooner
    // (a subscription shorter than the window is renewed at each regular check).
    const untilRenew = Date.parse(r.expiresAt) - renewBeforeMs - Date.now();
    const wait = Math.max(1_000, untilRenew > 0 ? Math.min(checkEveryMs, untilRenew) : checkEveryMs);
    state.nextCheckAt = new Date(Date.now() + wait).toISOString();
    await condition(() => checkRequested, wait, { summary: 'wait for the next subscription check' });
  }
  return continueAsNew<typeof SubscriptionWorkflow>({
    ...input,
    ...(state.subscriptionId && { subscriptionId: state.subscriptionId }),
  });
}
