import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { subscriptionCheckSignal, subscriptionStateQuery } from '../contracts/workflow-messages';
import type { SubscriptionWorkflowInput, SubscriptionWorkflowState } from '../contracts/workflow-types';

const upkeep = proxyActivities<FaxActivities>({
  startToCloseTimeout: '1 minute',
  // A task lost with a dead worker or a restarted server is retried in seconds, not at the timeout.
  heartbeatTimeout: '20 seconds',
  // RingCentral's handshake against our receiver can fail while it starts: keep trying, gently.
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Checks per run before continuing as new: each check is a handful of events. */
const CHECKS_PER_RUN = 100;
/** After a failed check (a 4xx is not retried by Temporal), wait this long, doubling, up to the max. */
const FAILURE_BACKOFF_MS = 10_000;
const FAILURE_BACKOFF_MAX_MS = 15 * 60_000;

/**
 * Keeps one RingCentral webhook subscription alive for one credential, for ever: creates it,
 * renews it well before it expires, and replaces it when RingCentral blacklists or forgets it.
 * Operators read its state with the `state` query; `checkNow` makes it look at once.
 */
export async function SubscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<never> {
  const expiresInSeconds = input.expiresInSeconds ?? 7 * 24 * 3600;
  const renewBeforeMs = input.renewBeforeMs ?? 24 * 3600_000;
  // A vanished subscription is found by this GET (404 → recreated at once); webhook health also
  // asks for a check as soon as a sent fax goes unannounced.
  const checkEveryMs = input.checkEveryMs ?? 5 * 60_000;
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
  const remember = (entry: SubscriptionWorkflowState['history'][number]): void => {
    state.history = [...state.history, entry].slice(-20);
  };

  for (let i = 0; i < CHECKS_PER_RUN; i++) {
    checkRequested = false;
    let r;
    try {
      r = await upkeep.ensureSubscription.executeWithOptions(
        {
          startToCloseTimeout: '1 minute',
          retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes' },
          summary: state.subscriptionId
            ? `check subscription ${state.subscriptionId}`
            : 'create the webhook subscription',
        },
        [
          {
            credentialKey: input.credentialKey,
            address: input.address,
            expiresInSeconds,
            renewBeforeMs,
            ...(state.subscriptionId && { subscriptionId: state.subscriptionId }),
          },
        ],
      );
    } catch (err) {
      // Before this patch a non-retryable failure (a 4xx such as 400 SUB-525, a failed handshake)
      // ended the keeper until the API restarted. Histories recorded then must still end that way.
      if (!(err instanceof ActivityFailure) || !patched('subscription-keeps-trying')) throw err;
      state.failures = (state.failures ?? 0) + 1;
      state.lastError = failureReason(err);
      state.lastCheckAt = new Date(Date.now()).toISOString();
      remember({ at: state.lastCheckAt, action: 'failed', reason: state.lastError });
      const wait = Math.min(FAILURE_BACKOFF_MAX_MS, FAILURE_BACKOFF_MS * 2 ** (state.failures - 1));
      state.nextCheckAt = new Date(Date.now() + wait).toISOString();
      await condition(() => checkRequested, wait, { summary: 'back off after a failed subscription check' });
      continue;
    }
    delete state.failures;
    delete state.lastError;
    state.subscriptionId = r.subscriptionId;
    state.status = r.status;
    state.expiresAt = r.expiresAt;
    state.lastCheckAt = new Date(Date.now()).toISOString();
    state.checks++;
    if (r.action !== 'unchanged') {
      remember({
        at: state.lastCheckAt,
        action: r.action,
        subscriptionId: r.subscriptionId,
        ...(r.reason && { reason: r.reason }),
      });
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

/** The activity's own message (e.g. RingCentral's code and sentence), not Temporal's wrapper. */
function failureReason(err: ActivityFailure): string {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return cause?.message ?? err.message;
}
