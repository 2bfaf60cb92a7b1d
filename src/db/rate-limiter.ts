import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

export interface RateBudget {
  /** Calls allowed in any window. */
  limit: number;
  windowMs: number;
}

export type Admission = { admitted: true } | { admitted: false; retryInMs: number };

/**
 * A sliding-window budget shared by every worker through Postgres. RingCentral counts calls per
 * user and app in 60 s windows and punishes the 11th fax send with a 60 s penalty that each further
 * call restarts, so a token bucket (which lets a burst and the refill land in the same window) is
 * not safe: we admit a call only while fewer than `limit` calls were admitted in the last window.
 *
 * The check-and-insert runs under a transaction-scoped advisory lock on the bucket, and uses the
 * database's clock, so workers on different machines agree without synchronised clocks.
 */
export async function admit(db: Kysely<Database>, bucket: string, budget: RateBudget): Promise<Admission> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${bucket}))`.execute(trx);
    const window = sql<Date>`clock_timestamp() - ${budget.windowMs} * interval '1 millisecond'`;
    await trx
      .deleteFrom('rate_limit_events')
      .where('bucket', '=', bucket)
      .where('at', '<=', window)
      .execute();
    const recent = await trx
      .selectFrom('rate_limit_events')
      .select(
        sql<number>`extract(epoch from (at + ${budget.windowMs} * interval '1 millisecond' - clock_timestamp())) * 1000`.as(
          'freesInMs',
        ),
      )
      .where('bucket', '=', bucket)
      .orderBy('at', 'desc')
      .limit(budget.limit)
      .execute();
    if (recent.length < budget.limit) {
      await trx.insertInto('rate_limit_events').values({ bucket }).execute();
      return { admitted: true };
    }
    // The oldest of the last `limit` calls leaves the window first.
    const oldest = recent[recent.length - 1]!;
    return { admitted: false, retryInMs: Math.max(1, Math.ceil(Number(oldest.freesInMs))) };
  });
}
