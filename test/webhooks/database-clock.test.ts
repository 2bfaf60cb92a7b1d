import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { openFaxAttempt } from '../../src/db/fax-attempts';
import { testDatabase } from '../support/database';
import { inFlightJob } from './rows';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('times compared across processes', () => {
  it("stamps an attempt's started_at with the database's clock, not the worker's (issue 8 #14)", async () => {
    const { jobId } = await inFlightJob(database.db, 'cred-clock', 0);
    // This worker's clock runs an hour ahead of the database's.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3600_000 });
    const { attempt } = await openFaxAttempt(database.db, jobId, 2);
    const { rows } = await sql<{ skew: number }>`
      select abs(extract(epoch from (started_at - now()))) as skew from fax_attempts where id = ${attempt.id}`.execute(
      database.db,
    );
    expect(Number(rows[0]!.skew)).toBeLessThan(60);
  });
});
