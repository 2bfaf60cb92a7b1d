import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { admit, admitSlot, dispatchSlot, endSlot } from '../../src/db/rate-limiter';
import { RingCentralApiError } from '../../src/ringcentral/errors';
import { withRateBudgets } from '../../src/ringcentral/rate-budgets';
import type { FaxMessage, SendFaxRequest } from '../../src/ringcentral/types';
import { testDatabase } from '../support/database';
import { FakeRingCentral } from '../support/fake-ringcentral';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

const BUDGET = { limit: 2, windowMs: 400 };

/**
 * A RingCentral that counts a send once its upload has arrived (the end of the request, the latest
 * moment it can count it), and answers 429 to a send that makes more than `limit` in a window.
 * Uploads take as long as the document's name says.
 */
class UploadCountingRingCentral extends FakeRingCentral {
  readonly counted: number[] = [];
  rateLimited = 0;

  override async sendFax(request: SendFaxRequest): Promise<FaxMessage> {
    await new Promise((r) => setTimeout(r, Number(request.documents[0]!.filename)));
    const now = Date.now();
    const inWindow = this.counted.filter((t) => t > now - BUDGET.windowMs).length;
    this.counted.push(now);
    if (inWindow >= BUDGET.limit) {
      this.rateLimited++;
      throw new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 1, 'Heavy');
    }
    return super.sendFax(request);
  }
}

const send = (uploadMs: number) => ({
  to: [{ phoneNumber: '+12025550123' }],
  documents: [{ filename: String(uploadMs), contentType: 'application/pdf', content: Buffer.alloc(1) }],
});

describe('a budget slot counts from when its request ended', () => {
  it('holds the next window back until a slow upload has ended, so RingCentral never counts one too many', async () => {
    // Issue 13: slots were counted at their planned time. A send whose upload took longer than the
    // ones after it was counted by RingCentral late, so the send a window after it landed in the same
    // window as it: bench:rate saw 429s whenever uploads varied by more than the window's margin.
    const rc = new UploadCountingRingCentral();
    const bucket = `t-${randomUUID()}`;
    const client = withRateBudgets(rc, (group) =>
      admitSlot(database.db, `${bucket}:${group}`, BUDGET, { maxWaitMs: 5_000 }),
    );
    // Two sends at once, the first with a long upload; two more as soon as they can have a slot.
    const first = [client.sendFax(send(300)), client.sendFax(send(0))];
    await new Promise((r) => setTimeout(r, 20));
    const later = [client.sendFax(send(0)), client.sendFax(send(0))];
    const results = await Promise.allSettled([...first, ...later]);

    // Each rejection with its reason, so that a failure says which side refused (our budget or the
    // fake RingCentral's 429): it failed once under a fully loaded suite and never alone.
    expect(results.map((r) => (r.status === 'fulfilled' ? r.status : String(r.reason)))).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(rc.rateLimited).toBe(0);
    expect(rc.sent).toHaveLength(4);
    const counted = [...rc.counted].sort((a, b) => a - b);
    for (let i = BUDGET.limit; i < counted.length; i++)
      expect(counted[i]! - counted[i - BUDGET.limit]!).toBeGreaterThanOrEqual(BUDGET.windowMs);
  });

  it('gives the slot back when the requests before it ended too late for its patience', async () => {
    const bucket = `t-${randomUUID()}`;
    const budget = { limit: 1, windowMs: 60_000 };
    const a = await admit(database.db, bucket, budget);
    if (!a.admitted) throw new Error('the first call of a bucket is admitted');
    expect(await dispatchSlot(database.db, bucket, budget, a.slotId)).toEqual({ go: true });
    // While A is in flight RingCentral may count it any moment: B's window starts only when A ends.
    const b = await admit(database.db, bucket, budget, { maxWaitMs: 120_000 });
    if (!b.admitted) throw new Error('B waits up to 2 min');
    expect(b.waitMs).toBeGreaterThan(59_000);
    const dispatch = await dispatchSlot(database.db, bucket, budget, b.slotId, { maxWaitMs: 1_000 });
    expect(dispatch).toMatchObject({ go: false, retryInMs: expect.any(Number) as number });
    // B's slot was given back: a new caller queues behind A alone, not behind A and B.
    const c = await admit(database.db, bucket, budget, { maxWaitMs: 120_000 });
    expect(c.admitted && c.waitMs).toBeLessThan(61_000);
    await endSlot(database.db, a.slotId);
  });
});
