import type { Db } from './schema';

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
