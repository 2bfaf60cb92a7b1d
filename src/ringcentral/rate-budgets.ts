import { RingCentralApiError, RingCentralNetworkError } from './errors';
import type { RingCentralClient, SendFaxOptions } from './types';

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
  listSubscriptions: 'Light',
};

/**
 * A slot of the shared budget, once admitted: `dispatch` right before its request leaves (it may
 * have to wait a little longer, or be given back), `end` once the request has ended.
 */
export interface BudgetSlot {
  dispatch(): Promise<{ go: true } | { go: false; waitMs: number } | { go: false; retryInMs: number }>;
  end(): Promise<void>;
}

export type AdmitFn = (
  group: RateGroup,
) => Promise<{ admitted: true; waitMs: number; slot?: BudgetSlot } | { admitted: false; retryInMs: number }>;

/**
 * Tells the shared budget that RingCentral counts `group` as over its limit for the next `forMs`
 * (a 429's Retry-After): no call of that group is admitted before then. A duration, not an
 * instant, so that the budget measures it on its own clock.
 */
export type PenalizeFn = (group: RateGroup, forMs: number) => Promise<void>;

/** Dispatches a slot, waiting as long as it must move; or the delay after which to ask again (it was given back). */
async function dispatchSlot(slot: BudgetSlot, signal?: AbortSignal): Promise<'go' | { retryInMs: number }> {
  for (;;) {
    const dispatch = await slot.dispatch();
    if (dispatch.go) return 'go';
    if ('retryInMs' in dispatch) return { retryInMs: dispatch.retryInMs };
    await sleep(dispatch.waitMs, signal);
  }
}

/** A 429 without Retry-After: RingCentral's documented advice is to wait 30 s or more. */
const DEFAULT_PENALTY_MS = 30_000;

/**
 * Wraps a client so that every call first takes a slot from its rate-limit group's shared budget
 * (fax send: Heavy; message delete and subscription create/delete: Medium; reads, lists and
 * subscription renew: Light); a listing takes one slot per page it requests. Calls over budget fail fast
 * with `RateBudgetExhaustedError` instead of earning a 429 and RingCentral's 60 s penalty. A 429
 * that happens anyway closes the group's budget until its Retry-After has passed (`penalize`).
 */
export function withRateBudgets(
  client: RingCentralClient,
  admit: AdmitFn,
  opts: { penalize?: PenalizeFn; patienceMs?: Partial<Record<RateGroup, number>> } = {},
): RingCentralClient {
  /**
   * A refusal says when a slot would come within the budget's wait; while that moment falls within
   * the group's patience (counted from the first ask), the call asks again here rather than fail.
   * Failing hands the wait to Temporal's retry: an activity attempt, a server timer, a new poll, and
   * under a saturated budget (bench:rate, issue 13) two such retries per send, most of them for a
   * slot under 100 ms away. A call thus holds its caller for at most its patience plus the wait of
   * the slot it finally gets.
   */
  const gate = async (group: RateGroup, signal?: AbortSignal): Promise<BudgetSlot | undefined> => {
    const patience = opts.patienceMs?.[group] ?? 0;
    const started = Date.now();
    const refused = async (retryInMs: number): Promise<void> => {
      if (Date.now() - started + retryInMs > patience) throw new RateBudgetExhaustedError(group, retryInMs);
      await sleep(retryInMs, signal);
    };
    for (;;) {
      const admission = await admit(group);
      if (!admission.admitted) {
        await refused(admission.retryInMs);
        continue;
      }
      // A slot reserved a little ahead: wait for it here rather than give it back.
      if (admission.waitMs > 0) await sleep(admission.waitMs, signal);
      const slot = admission.slot;
      if (!slot) return undefined;
      // The requests before it may have ended later than planned (a long upload): leave only a full
      // window after them, as RingCentral counts.
      const dispatched = await dispatchSlot(slot, signal);
      if (dispatched === 'go') return slot;
      await refused(dispatched.retryInMs);
    }
  };
  /** The request ended: RingCentral has counted it. A budget that cannot be told keeps it in flight a while. */
  const end = async (slot: BudgetSlot | undefined): Promise<void> => {
    await slot?.end().catch(() => undefined);
  };
  const penalize = async (name: GatedCall, err: unknown): Promise<void> => {
    if (!opts.penalize || !(err instanceof RingCentralApiError) || !err.isRateLimited) return;
    const group = isRateGroup(err.rateLimitGroup) ? err.rateLimitGroup : RATE_GROUP_OF[name];
    const forMs = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : DEFAULT_PENALTY_MS;
    // The 429 is what the caller must see; a budget that cannot be told is only a lost hint.
    await opts.penalize(group, forMs).catch(() => undefined);
  };
  const gated = <K extends GatedCall>(name: K): RingCentralClient[K] => {
    const call = client[name] as (...args: unknown[]) => Promise<unknown>;
    return (async (...args: unknown[]) => {
      const signal = name === 'sendFax' ? (args[1] as SendFaxOptions | undefined)?.signal : undefined;
      const slot = await gate(RATE_GROUP_OF[name], signal);
      try {
        return await call.apply(client, args);
      } catch (err) {
        await penalize(name, err);
        throw err;
      } finally {
        await end(slot);
      }
    }) as RingCentralClient[K];
  };
  const list = gated('listOutboundFaxes');
  return {
    sendFax: gated('sendFax'),
    getMessage: gated('getMessage'),
    // The first page's slot is taken like any call's (it ends with the listing); each further page
    // takes one of its own, which ends when the next page is asked for or the listing ends.
    listOutboundFaxes: async (query) => {
      let page: BudgetSlot | undefined;
      try {
        return await list({
          ...query,
          beforeNextPage: async () => {
            await query.beforeNextPage?.();
            await end(page);
            page = undefined;
            page = await gate(RATE_GROUP_OF.listOutboundFaxes);
          },
        });
      } finally {
        await end(page);
      }
    },
    deleteMessage: gated('deleteMessage'),
    createSubscription: gated('createSubscription'),
    getSubscription: gated('getSubscription'),
    renewSubscription: gated('renewSubscription'),
    deleteSubscription: gated('deleteSubscription'),
    listSubscriptions: gated('listSubscriptions'),
    close: () => client.close(),
  };
}

function isRateGroup(value: string | undefined): value is RateGroup {
  return value === 'Heavy' || value === 'Medium' || value === 'Light';
}

/** Waits `ms`, or rejects at once when the caller cancels (nothing has been sent yet). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function cancelled(): RingCentralNetworkError {
  return new RingCentralNetworkError('RingCentral request cancelled while waiting for a rate slot', false);
}
