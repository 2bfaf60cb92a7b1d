import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { admit } from '../../src/db/rate-limiter';
import { testDatabase } from '../support/database';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('shared rate budgets', () => {
  it('admits `limit` calls per window and says when the next slot frees', async () => {
    const bucket = `t-${randomUUID()}`;
    const budget = { limit: 3, windowMs: 1_000 };
    const first = await Promise.all([1, 2, 3, 4, 5].map(() => admit(database.db, bucket, budget)));
    expect(first.filter((a) => a.admitted)).toHaveLength(3);
    const refused = first.find((a) => !a.admitted) as { admitted: false; retryInMs: number };
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(1_000);
    await new Promise((r) => setTimeout(r, refused.retryInMs + 20));
    expect((await admit(database.db, bucket, budget)).admitted).toBe(true);
  });

  it('hands out future slots in order to callers willing to wait, never more than the limit per window', async () => {
    const bucket = `t-${randomUUID()}`;
    const budget = { limit: 2, windowMs: 500 };
    const admissions = await Promise.all(
      Array.from({ length: 6 }, () => admit(database.db, bucket, budget, { maxWaitMs: 1_200 })),
    );
    const waits = admissions.map((a) => (a.admitted ? a.waitMs : -1)).sort((a, b) => a - b);
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    expect(waits[2]).toBeGreaterThan(400);
    expect(waits[3]).toBeLessThanOrEqual(520);
    expect(waits[4]).toBeGreaterThan(900);
    expect(waits[5]).toBeLessThanOrEqual(1_040);
    // The next slot would be ~1.5 s away: more than this caller waits, so it is told when to ask again.
    const later = await admit(database.db, bucket, budget, { maxWaitMs: 1_200 });
    expect(later.admitted).toBe(false);
    expect(!later.admitted && later.retryInMs).toBeGreaterThan(0);
  });

  it('holds across many concurrent callers (as across workers): never more than the limit in a window', async () => {
    const bucket = `t-${randomUUID()}`;
    const budget = { limit: 10, windowMs: 60_000 };
    const admissions = await Promise.all(
      Array.from({ length: 40 }, () => admit(database.db, bucket, budget)),
    );
    expect(admissions.filter((a) => a.admitted)).toHaveLength(10);
  });
});
