import { RingCentralApiError } from '../ringcentral/errors';
import { RATE_GROUP_OF, type AdmitFn } from '../ringcentral/rate-budgets';
import type { RingCentralClient } from '../ringcentral/types';
import {
  budgetExhausted,
  budgetWait,
  ringCentralCallDuration,
  ringCentralCalls,
  ringCentralRateLimited,
} from './metrics';

type Call = keyof typeof RATE_GROUP_OF;

/**
 * Counts and times every call that reaches RingCentral. It wraps the adapter *inside* the rate
 * budgets, so a call our own budget refused is not counted as a RingCentral call.
 */
export function withCallMetrics(client: RingCentralClient): RingCentralClient {
  const metered = <K extends Call>(call: K): RingCentralClient[K] => {
    const fn = client[call] as (...args: unknown[]) => Promise<unknown>;
    const group = RATE_GROUP_OF[call];
    return (async (...args: unknown[]) => {
      const stop = ringCentralCallDuration.startTimer({ call });
      try {
        const result = await fn.apply(client, args);
        ringCentralCalls.inc({ group, call, outcome: 'ok' });
        return result;
      } catch (err) {
        const limited = err instanceof RingCentralApiError && err.isRateLimited;
        ringCentralCalls.inc({ group, call, outcome: limited ? 'rate_limited' : 'error' });
        if (limited) ringCentralRateLimited.inc({ group: err.rateLimitGroup ?? group });
        throw err;
      } finally {
        stop();
      }
    }) as RingCentralClient[K];
  };
  return {
    sendFax: metered('sendFax'),
    getMessage: metered('getMessage'),
    listOutboundFaxes: metered('listOutboundFaxes'),
    deleteMessage: metered('deleteMessage'),
    createSubscription: metered('createSubscription'),
    getSubscription: metered('getSubscription'),
    renewSubscription: metered('renewSubscription'),
    deleteSubscription: metered('deleteSubscription'),
    listSubscriptions: metered('listSubscriptions'),
    close: () => client.close(),
  };
}

/** Records how long each admitted call must wait for its slot, and every refusal, by group. */
export function withAdmissionMetrics(admit: AdmitFn): AdmitFn {
  return async (group) => {
    const admission = await admit(group);
    if (admission.admitted) budgetWait.observe({ group }, admission.waitMs / 1000);
    else budgetExhausted.inc({ group });
    return admission;
  };
}
