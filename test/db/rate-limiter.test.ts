import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
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
    const askedAt = Date.now();
    const first = await Promise.all([1, 2, 3, 4, 5].map(() => admit(database.db, bucket, budget)));
    expect(first.filter((a) => a.admitted)).toHaveLength(3);
    const refused = first.find((a) => !a.admitted) as { admitted: false; retryInMs: number };
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(1_000);
    // Ask until admitted: the slot opens when the window has passed, not before.
    let admittedAt = 0;
    while (admittedAt === 0) {
      if ((await admit(database.db, bucket, budget)).admitted) admittedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 10));
    }
    // retryInMs counts from the refusal, which came after askedAt (same machine's clock as the database).
    expect(admittedAt - askedAt).toBeGreaterThanOrEqual(refused.retryInMs - 5);
  });

  it('hands out future slots in order to callers willing to wait, never more than the limit per window', async () => {
    const bucket = `t-${randomUUID()}`;
    const budget = { limit: 2, windowMs: 500 };
    const admissions = await Promise.all(
      Array.from({ length: 6 }, () => admit(database.db, bucket, budget, { maxWaitMs: 1_200 })),
    );
    expect(admissions.every((a) => a.admitted)).toBe(true);
    const waits = admissions.map((a) => (a.admitted ? a.waitMs : -1)).sort((a, b) => a - b);
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    // The reserved slots themselves (on the database's clock): any `limit + 1` consecutive ones
    // span at least a window, so no window ever holds more than `limit` calls.
    const slots = (
      await database.db
        .selectFrom('rate_limit_events')
        .select(sql<number>`extract(epoch from at) * 1000`.as('atMs'))
        .where('bucket', '=', bucket)
        .orderBy('at')
        .execute()
    ).map((r) => Number(r.atMs));
    expect(slots).toHaveLength(6);
    for (let i = 2; i < slots.length; i++)
      expect(slots[i]! - slots[i - 2]!).toBeGreaterThanOrEqual(budget.windowMs);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_200);
    // The next slot would be ~1.5 s away: more than this caller waits, so it is told when to ask again.
    const later = await admit(database.db, bucket, budget, { maxWaitMs: 1_200 });
    expect(later.admitted).toBe(false);
    // It may ask again once that slot is within its 1.2 s: about 0.3 s from now.
    expect(!later.admitted && later.retryInMs).toBeGreaterThan(0);
    expect(!later.admitted && later.retryInMs).toBeLessThanOrEqual(budget.windowMs);
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
