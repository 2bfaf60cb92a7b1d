import { sql } from 'kysely';
import type { Db } from './schema';

/**
 * How long a claim without an answer belongs to its request. A request works for a few seconds
 * (its Temporal calls have a 5 s deadline); a claim older than this was left by a process that died
 * between claiming and answering, and the next request with the same key and content takes it over
 * (starting a workflow is idempotent by its id, so doing the work again is safe).
 */
export const IDEMPOTENCY_CLAIM_LEASE_MS = 15_000;

/**
 * `Idempotency-Key` records of the HTTP API v1, per tenant, kept in Postgres so that a retried
 * submission is recognised after Temporal's retention has dropped the closed workflow. A key is
 * claimed (row without an answer) before the work starts, and answered (status and body) after it.
 */

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'in-progress'; fingerprint: string }
  | { state: 'done'; fingerprint: string; statusCode: number; response: unknown };

/** Claims the key for this request, or tells what an earlier request with it did. One wins a race. */
export async function claimIdempotencyKey(
  db: Db,
  tenantId: string,
  key: string,
  fingerprint: string,
): Promise<IdempotencyClaim> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ tenant_id: tenantId, key, fingerprint })
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { state: 'claimed' };
  const takenOver = await sql<{ key: string }>`
    update idempotency_keys set created_at = now()
    where tenant_id = ${tenantId} and key = ${key} and fingerprint = ${fingerprint}
      and status_code is null
      and created_at < now() - make_interval(secs => ${IDEMPOTENCY_CLAIM_LEASE_MS / 1000})
    returning key`.execute(db);
  if (takenOver.rows.length > 0) return { state: 'claimed' };
  return (await readIdempotencyKey(db, tenantId, key)) ?? { state: 'in-progress', fingerprint };
}

export async function readIdempotencyKey(
  db: Db,
  tenantId: string,
  key: string,
): Promise<Exclude<IdempotencyClaim, { state: 'claimed' }> | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['fingerprint', 'status_code', 'response'])
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.status_code === null) return { state: 'in-progress', fingerprint: row.fingerprint };
  return { state: 'done', fingerprint: row.fingerprint, statusCode: row.status_code, response: row.response };
}

/** Stores the answer the first request got: every replay gets it. */
export async function completeIdempotencyKey(
  db: Db,
  tenantId: string,
  key: string,
  answer: { statusCode: number; response: unknown },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({
      status_code: answer.statusCode,
      response: JSON.stringify(answer.response),
      completed_at: new Date(),
    })
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .execute();
}

/** Frees a claimed key whose request failed before anything was created (it may be retried). */
export async function releaseIdempotencyKey(db: Db, tenantId: string, key: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .where('status_code', 'is', null)
    .execute();
}
