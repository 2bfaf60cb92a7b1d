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
  return {
    async sendFax(request) {
      await gate('Heavy');
      return client.sendFax(request);
    },
    async getMessage(id) {
      await gate('Light');
      return client.getMessage(id);
    },
    async listOutboundFaxes(query) {
      await gate('Light');
      return client.listOutboundFaxes(query);
    },
    async deleteMessage(id, opts) {
      await gate('Medium');
      return client.deleteMessage(id, opts);
    },
    async createSubscription(request) {
      await gate('Medium');
      return client.createSubscription(request);
    },
    async getSubscription(id) {
      await gate('Light');
      return client.getSubscription(id);
    },
    async renewSubscription(id) {
      await gate('Light');
      return client.renewSubscription(id);
    },
    async deleteSubscription(id) {
      await gate('Medium');
      return client.deleteSubscription(id);
    },
    close: () => client.close(),
  };
}
