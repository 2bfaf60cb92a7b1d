import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

export interface RateBudget {
  /** Calls allowed in any window. */
  limit: number;
  windowMs: number;
}

/**
 * `admitted`: the call has a slot `waitMs` from now (0: at once), already counted in the budget;
 * `slotId` names it for `dispatchSlot` and `endSlot`. Otherwise no slot is free within the caller's
 * patience; ask again in `retryInMs`.
 */
export type Admission =
  { admitted: true; waitMs: number; slotId: string } | { admitted: false; retryInMs: number };

/**
 * A request that left and never ended (its worker died) is taken as counted this long after it
 * left: well past the RingCentral adapter's request timeout.
 */
export const IN_FLIGHT_MAX_MS = 3 * 60_000;

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
 * A slot's time is where its call is counted, and that moves: planned here, then the moment its
 * request leaves (`dispatchSlot`), then the moment it ended (`endSlot`), when RingCentral has
 * counted it for sure. While it is in flight it counts as "now". So a request leaves only a full
 * window after the end of the `limit`-th request before it, however long uploads and delays were
 * (issue 13: counting from the planned time, an upload that took longer than the one after it put
 * 11 sends into RingCentral's window and earned 429s).
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
  // One round trip: the steps (lock, clock, prune, the last `limit` slots, reserve) are the function
  // faxflow_admit of migration 2026-11-27T1400_admit_function.
  const { rows } = await sql<{
    admitted: boolean;
    wait_ms: string | null;
    retry_in_ms: string | null;
    slot_id: string | null;
  }>`select * from faxflow_admit(${bucket}, ${budget.limit}, ${budget.windowMs}, ${maxWaitMs}, ${IN_FLIGHT_MAX_MS})`.execute(
    db,
  );
  const row = rows[0]!;
  return row.admitted
    ? { admitted: true, waitMs: Number(row.wait_ms), slotId: String(row.slot_id) }
    : { admitted: false, retryInMs: Number(row.retry_in_ms) };
}

/** What a caller holding a slot may do right before its request leaves. */
export type Dispatch =
  /** Send now: the slot is marked in flight. */
  | { go: true }
  /** Requests before it ended later than planned: wait this long (the slot moved there), then ask again. */
  | { go: false; waitMs: number }
  /** Not within the caller's patience: the slot was given back; ask `admit` again in `retryInMs`. */
  | { go: false; retryInMs: number };

/**
 * Right before a slot's request leaves: checks, against when the requests before it actually
 * ended (or now, for those still in flight), that fewer than `limit` of them fall in the window
 * that ends now, and marks it in flight.
 */
export async function dispatchSlot(
  db: Kysely<Database>,
  bucket: string,
  budget: RateBudget,
  slot: string,
  opts: { maxWaitMs?: number } = {},
): Promise<Dispatch> {
  const maxWaitMs = opts.maxWaitMs ?? 0;
  // One round trip: faxflow_dispatch_slot (migration 2026-11-27T1400_admit_function) takes the
  // bucket's lock, compares against the other slots' real times and moves, marks or frees this one.
  const { rows } = await sql<{
    go: boolean;
    wait_ms: string | null;
    retry_in_ms: string | null;
  }>`select * from faxflow_dispatch_slot(${bucket}, ${budget.limit}, ${budget.windowMs}, ${maxWaitMs}, ${IN_FLIGHT_MAX_MS}, ${Number(slot)})`.execute(
    db,
  );
  const row = rows[0]!;
  if (row.go) return { go: true };
  return row.wait_ms !== null
    ? { go: false, waitMs: Number(row.wait_ms) }
    : { go: false, retryInMs: Number(row.retry_in_ms) };
}

/** The slot's request ended (answered, failed or was cut off): RingCentral has counted it by now. */
export async function endSlot(db: Kysely<Database>, slot: string): Promise<void> {
  await db
    .updateTable('rate_limit_events')
    .set({ at: sql<Date>`greatest(at, clock_timestamp())`, in_flight: false })
    .where('id', '=', Number(slot))
    .execute();
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

/**
 * `admit` with the slot's `dispatch` and `end` bound: what a RingCentral client wrapped in
 * `withRateBudgets` asks for each call.
 */
export async function admitSlot(
  db: Kysely<Database>,
  bucket: string,
  budget: RateBudget,
  opts: { maxWaitMs?: number } = {},
): Promise<
  | {
      admitted: true;
      waitMs: number;
      slot: { dispatch: () => Promise<Dispatch>; end: () => Promise<void> };
    }
  | { admitted: false; retryInMs: number }
> {
  const admission = await admit(db, bucket, budget, opts);
  if (!admission.admitted) return admission;
  const id = admission.slotId;
  return {
    admitted: true,
    waitMs: admission.waitMs,
    slot: { dispatch: () => dispatchSlot(db, bucket, budget, id, opts), end: () => endSlot(db, id) },
  };
}
