import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

export interface RateBudget {
  /** Calls allowed in any window. */
  limit: number;
  windowMs: number;
}

/**
 * `admitted`: the call has a slot `waitMs` from now (0: at once), already counted in the budget.
 * Otherwise no slot is free within the caller's patience; ask again in `retryInMs`.
 */
export type Admission = { admitted: true; waitMs: number } | { admitted: false; retryInMs: number };

/**
 * A sliding-window budget shared by every worker through Postgres. RingCentral counts calls per
 * user and app in 60 s windows and punishes the 11th fax send with a 60 s penalty that each further
 * call restarts, so a token bucket (which lets a burst and the refill land in the same window) is
 * not safe: a call gets a slot only where fewer than `limit` calls fall in any window.
 *
 * Slots are handed out in order, into the future when the window is full: a caller willing to wait
 * up to `maxWaitMs` gets a reserved time and waits for it, instead of every waiting caller retrying
 * at the same instant the next slot frees (a thundering herd that, with Temporal, bills a retry each).
 *
 * The check-and-insert runs under a transaction-scoped advisory lock on the bucket, and uses the
 * database's clock, so workers on different machines agree without synchronised clocks.
 */
export async function admit(
  db: Kysely<Database>,
  bucket: string,
  budget: RateBudget,
  opts: { maxWaitMs?: number } = {},
): Promise<Admission> {
  const maxWaitMs = opts.maxWaitMs ?? 0;
  // One round trip: migration 2026-11-27T1400_admit_function holds the steps (lock the bucket,
  // read the database's clock, prune, read the last `limit` slots, reserve the next one).
  const { rows } = await sql<{
    admitted: boolean;
    wait_ms: string | null;
    retry_in_ms: string | null;
  }>`select * from faxflow_admit(${bucket}, ${budget.limit}, ${budget.windowMs}, ${maxWaitMs})`.execute(db);
  const row = rows[0]!;
  return row.admitted
    ? { admitted: true, waitMs: Number(row.wait_ms) }
    : { admitted: false, retryInMs: Number(row.retry_in_ms) };
}

/** Retry-After counts whole seconds: penalties closer than this are the same penalty. */
const PENALTY_GRAIN_MS = 1_000;

/**
 * RingCentral answered 429: it counts this group as over budget for `forMs` (its Retry-After), even
 * if our own log says otherwise (another app on the same user, a clock drift, a lost insert). Fill
 * the window that ends `forMs` from now, so `admit` gives no slot before then to any worker; the
 * window then passes and the whole budget is free again, as RingCentral's is after its penalty.
 * Like `admit`, it runs under the bucket's advisory lock on the database's clock.
 */
export async function penalize(
  db: Kysely<Database>,
  bucket: string,
  budget: RateBudget,
  forMs: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${bucket}))`.execute(trx);
    const { rows } = await sql<{
      now: number;
    }>`select extract(epoch from clock_timestamp()) * 1000 as now`.execute(trx);
    const windowStart = Number(rows[0]!.now) + forMs - budget.windowMs;
    const at = sql<Date>`to_timestamp(${windowStart / 1000})`;
    // Already blocked until then, give or take Retry-After's one-second grain (other workers met
    // the same 429): add nothing, so a burst of 429s does not stack up penalties.
    const { n } = await trx
      .selectFrom('rate_limit_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('bucket', '=', bucket)
      .where('at', '>=', sql<Date>`to_timestamp(${(windowStart - PENALTY_GRAIN_MS) / 1000})`)
      .executeTakeFirstOrThrow();
    const missing = budget.limit - Number(n);
    if (missing <= 0) return;
    await trx
      .insertInto('rate_limit_events')
      .values(Array.from({ length: missing }, () => ({ bucket, at: at as unknown as Date })))
      .execute();
  });
}
