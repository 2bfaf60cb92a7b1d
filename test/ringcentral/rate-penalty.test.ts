import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { admit, admitSlot, penalize } from '../../src/db/rate-limiter';
import { RingCentralApiError, RingCentralNetworkError } from '../../src/ringcentral/errors';
import {
  RateBudgetExhaustedError,
  withRateBudgets,
  type RateGroup,
} from '../../src/ringcentral/rate-budgets';
import { testDatabase } from '../support/database';
import { FakeRingCentral } from '../support/fake-ringcentral';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

const BUDGET = { limit: 10, windowMs: 61_000 };
const fax = { to: [{ phoneNumber: '+12025550123' }], documents: [] };

/** A client over the real shared budget in Postgres, wired as the composition root does. */
function budgeted(rc: FakeRingCentral, maxWaitMs = 0) {
  const bucket = `t-${randomUUID()}`;
  const client = withRateBudgets(
    rc,
    (group) => admitSlot(database.db, `${bucket}:${group}`, BUDGET, { maxWaitMs }),
    { penalize: (group, forMs) => penalize(database.db, `${bucket}:${group}`, BUDGET, forMs) },
  );
  return { client, bucket };
}

describe('a 429 closes the shared budget of its group until Retry-After has passed', () => {
  it('after a 429 with Retry-After 5, no call of that group is admitted before the 5 s have passed', async () => {
    const rc = new FakeRingCentral();
    const { client, bucket } = budgeted(rc);
    rc.failNextSend(new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 5, 'Heavy'));
    const before = Date.now();
    await expect(client.sendFax(fax)).rejects.toMatchObject({ status: 429 });
    // The window ends 5 s after the 429 at the earliest: whenever a worker asks, its next slot is
    // no earlier than that (a few ms of slack for rounding between the two clocks of one machine).
    const windowEnd = before + 5_000 - 5;

    const refused = await client.sendFax(fax).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateBudgetExhaustedError);
    expect(Date.now() + (refused as RateBudgetExhaustedError).retryInMs).toBeGreaterThanOrEqual(windowEnd);
    expect((refused as RateBudgetExhaustedError).retryInMs).toBeLessThanOrEqual(5_000);
    expect(rc.sent).toHaveLength(0);
    // A worker willing to wait gets the first slot after the window, not before.
    const waiting = await admit(database.db, `${bucket}:Heavy`, BUDGET, { maxWaitMs: 10_000 });
    expect(waiting.admitted).toBe(true);
    expect(Date.now() + (waiting.admitted ? waiting.waitMs : 0)).toBeGreaterThanOrEqual(windowEnd);
    // Other groups keep their budgets.
    await expect(client.listOutboundFaxes({ dateFrom: new Date(0) })).resolves.toEqual([]);
  });

  it('penalises the group RingCentral names in X-Rate-Limit-Group, and frees it once the window passed', async () => {
    const rc = new FakeRingCentral();
    const { client, bucket } = budgeted(rc);
    rc.failNextSend(new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 1, 'Light'));
    const before = Date.now();
    await expect(client.sendFax(fax)).rejects.toMatchObject({ status: 429 });
    const light = await admit(database.db, `${bucket}:Light`, BUDGET);
    expect(light.admitted).toBe(false);
    const retryInMs = (light as { retryInMs: number }).retryInMs;
    expect(Date.now() + retryInMs).toBeGreaterThanOrEqual(before + 1_000 - 5);
    expect((await admit(database.db, `${bucket}:Heavy`, BUDGET)).admitted).toBe(true);
    // Once a slot frees (asking takes none while refused), the whole budget is back, as
    // RingCentral's is after its penalty.
    let first = await admit(database.db, `${bucket}:Light`, BUDGET);
    while (!first.admitted) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      first = await admit(database.db, `${bucket}:Light`, BUDGET);
    }
    expect(Date.now()).toBeGreaterThanOrEqual(before + 1_000 - 5);
    const rest = await Promise.all(
      Array.from({ length: BUDGET.limit - 1 }, () => admit(database.db, `${bucket}:Light`, BUDGET)),
    );
    expect(rest.every((a) => a.admitted)).toBe(true);
  });

  it('the same 429 seen by many workers blocks once, not once per worker', async () => {
    const bucket = `t-${randomUUID()}`;
    await Promise.all(Array.from({ length: 5 }, () => penalize(database.db, bucket, BUDGET, 3_000)));
    const { count } = await database.db
      .selectFrom('rate_limit_events')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('bucket', '=', bucket)
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(BUDGET.limit);
    const refused = await admit(database.db, bucket, BUDGET);
    expect(!refused.admitted && refused.retryInMs).toBeLessThanOrEqual(3_000);
  });

  it('a 5xx does not touch the budget', async () => {
    const rc = new FakeRingCentral();
    const groups: RateGroup[] = [];
    const client = withRateBudgets(rc, async () => ({ admitted: true, waitMs: 0 }), {
      penalize: async (group) => void groups.push(group),
    });
    rc.failNextSend(new RingCentralApiError(503, 'CMN-211', 'Service overloaded', 5));
    await expect(client.sendFax(fax)).rejects.toMatchObject({ status: 503 });
    expect(groups).toEqual([]);
  });

  it('a send cancelled while waiting for its reserved slot leaves at once, sending nothing', async () => {
    const rc = new FakeRingCentral();
    const client = withRateBudgets(rc, async () => ({ admitted: true, waitMs: 60_000 }));
    const controller = new AbortController();
    const sending = client.sendFax(fax, { signal: controller.signal });
    controller.abort();
    await expect(sending).rejects.toMatchObject({ constructor: RingCentralNetworkError, ambiguous: false });
    expect(rc.sent).toHaveLength(0);
  });
});
