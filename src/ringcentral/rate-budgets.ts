import type { RingCentralClient } from './types';

/** RingCentral's rate-limit groups, per user and app, per 60 s. */
export type RateGroup = 'Heavy' | 'Medium' | 'Light';

export const DEFAULT_BUDGETS: Record<RateGroup, number> = { Heavy: 10, Medium: 40, Light: 50 };

/** Our own budget said no: nothing was sent to RingCentral. Retry after `retryInMs`. */
export class RateBudgetExhaustedError extends Error {
  override name = 'RateBudgetExhaustedError';
  constructor(
    readonly group: RateGroup,
    readonly retryInMs: number,
  ) {
    super(`RingCentral ${group} budget exhausted for this credential; next slot in ${retryInMs} ms`);
  }
}

type GatedCall = Exclude<keyof RingCentralClient, 'close'>;

/** RingCentral's rate-limit group of each call we make. */
export const RATE_GROUP_OF: Record<GatedCall, RateGroup> = {
  sendFax: 'Heavy',
  getMessage: 'Light',
  listOutboundFaxes: 'Light',
  deleteMessage: 'Medium',
  createSubscription: 'Medium',
  getSubscription: 'Light',
  renewSubscription: 'Light',
  deleteSubscription: 'Medium',
};

export type AdmitFn = (
  group: RateGroup,
) => Promise<{ admitted: true; waitMs: number } | { admitted: false; retryInMs: number }>;

/**
 * Wraps a client so that every call first takes a slot from its rate-limit group's shared budget
 * (fax send: Heavy; message delete and subscription create/delete: Medium; reads, lists and
 * subscription renew: Light). Calls over budget fail fast
 * with `RateBudgetExhaustedError` instead of earning a 429 and RingCentral's 60 s penalty.
 */
export function withRateBudgets(client: RingCentralClient, admit: AdmitFn): RingCentralClient {
  const gate = async (group: RateGroup): Promise<void> => {
    const admission = await admit(group);
    if (!admission.admitted) throw new RateBudgetExhaustedError(group, admission.retryInMs);
    // A slot reserved a little ahead: wait for it here rather than give it back.
    if (admission.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, admission.waitMs));
  };
  const gated = <K extends GatedCall>(name: K): RingCentralClient[K] => {
    const call = client[name] as (...args: unknown[]) => Promise<unknown>;
    return (async (...args: unknown[]) => {
      await gate(RATE_GROUP_OF[name]);
      return call.apply(client, args);
    }) as RingCentralClient[K];
  };
  return {
    sendFax: gated('sendFax'),
    getMessage: gated('getMessage'),
    listOutboundFaxes: gated('listOutboundFaxes'),
    deleteMessage: gated('deleteMessage'),
    createSubscription: gated('createSubscription'),
    getSubscription: gated('getSubscription'),
    renewSubscription: gated('renewSubscription'),
    deleteSubscription: gated('deleteSubscription'),
    close: () => client.close(),
  };
}
