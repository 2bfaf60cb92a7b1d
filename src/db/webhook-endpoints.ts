import { sql, type Kysely } from 'kysely';
import type { Database, Db, WebhookDelivery, WebhookEndpoint } from './schema';
import { currentSecretIfReadable, sealWebhookSecrets, type SecretCipher } from './webhook-endpoint-secrets';

/** How long a rotated-out secret still signs deliveries, so receivers can switch without a gap. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface NewWebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description?: string | null;
  /** Stored sealed (bound to `id`); the caller shows it once. */
  secret: string;
}

export async function insertWebhookEndpoint(
  db: Db,
  cipher: SecretCipher,
  e: NewWebhookEndpoint,
): Promise<WebhookEndpoint> {
  return db
    .insertInto('webhook_endpoints')
    .values({
      id: e.id,
      tenant_id: e.tenantId,
      url: e.url,
      events: e.events,
      description: e.description ?? null,
      ...sealWebhookSecrets(cipher, e.id, { current: e.secret, previous: null }),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A tenant's endpoint; another tenant's (or a deleted) endpoint is not found. */
export async function findWebhookEndpoint(
  db: Db,
  tenantId: string,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** For delivery: by id alone (the workflow knows only the id); deleted endpoints included. */
export async function findWebhookEndpointById(db: Db, id: string): Promise<WebhookEndpoint | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listWebhookEndpoints(db: Db, tenantId: string): Promise<WebhookEndpoint[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The enabled endpoints of a tenant listening for an event type. */
export async function listListeningEndpoints(
  db: Db,
  tenantId: string,
  type: string,
): Promise<WebhookEndpoint[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'enabled')
    .where('deleted_at', 'is', null)
    .where(sql<boolean>`${type} = any(events)`)
    .orderBy('id')
    .execute();
}

export async function deleteWebhookEndpoint(db: Db, tenantId: string, id: string): Promise<boolean> {
  const r = await db
    .updateTable('webhook_endpoints')
    .set({ deleted_at: new Date(), status: 'disabled', disabled_reason: 'deleted' })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** New secret now; the current one keeps signing (beside it) for the overlap. */
export async function rotateWebhookSecret(
  db: Kysely<Database>,
  cipher: SecretCipher,
  tenantId: string,
  id: string,
  newSecret: string,
  overlapMs = SECRET_ROTATION_OVERLAP_MS,
): Promise<WebhookEndpoint | undefined> {
  // Locked from read to write: two rotations at once must not both keep the same "previous".
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return undefined;
    const previous = await currentSecretIfReadable(trx, cipher, row);
    return trx
      .updateTable('webhook_endpoints')
      .set({
        ...sealWebhookSecrets(cipher, id, { current: newSecret, previous }),
        previous_secret_expires_at: previous === null ? null : new Date(Date.now() + overlapMs),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function recordWebhookDelivery(
  db: Db,
  d: {
    endpointId: string;
    eventId: string;
    eventType: string;
    attempt: number;
    statusCode: number | null;
    error: string | null;
    durationMs: number;
  },
): Promise<void> {
  await db
    .insertInto('webhook_deliveries')
    .values({
      endpoint_id: d.endpointId,
      event_id: d.eventId,
      event_type: d.eventType,
      attempt: d.attempt,
      status_code: d.statusCode,
      error: d.error,
      duration_ms: d.durationMs,
    })
    .execute();
}

/** A success ends the endpoint's failure streak. */
export async function clearEndpointFailures(db: Db, id: string): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ first_failure_at: null })
    .where('id', '=', id)
    .where('first_failure_at', 'is not', null)
    .execute();
}

/**
 * Notes a failed delivery. An endpoint that has failed without a single success for longer than
 * `windowMs` is disabled with the reason; returns whether it is (now) disabled.
 */
export async function noteEndpointFailure(
  db: Db,
  id: string,
  windowMs: number,
  lastError: string,
): Promise<{ disabled: boolean }> {
  const row = await db
    .updateTable('webhook_endpoints')
    .set({ first_failure_at: sql<Date>`coalesce(first_failure_at, now())` })
    .where('id', '=', id)
    .returning(['first_failure_at', 'status'])
    .executeTakeFirst();
  if (!row) return { disabled: true };
  if (row.status === 'disabled') return { disabled: true };
  const since = row.first_failure_at ?? new Date();
  if (Date.now() - since.getTime() < windowMs) return { disabled: false };
  await db
    .updateTable('webhook_endpoints')
    .set({
      status: 'disabled',
      disabled_at: new Date(),
      disabled_reason: `Every delivery failed since ${since.toISOString()} (${Math.round(windowMs / 1000)} s window); last error: ${lastError}`,
    })
    .where('id', '=', id)
    .where('status', '=', 'enabled')
    .execute();
  return { disabled: true };
}

export async function listWebhookDeliveries(
  db: Db,
  endpointId: string,
  opts: { limit: number; beforeId?: string },
): Promise<WebhookDelivery[]> {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (opts.beforeId !== undefined) q = q.where('id', '<', opts.beforeId);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

/** Turns a disabled endpoint back on with a clean failure streak (events raised meanwhile are not replayed). */
export async function enableWebhookEndpoint(
  db: Db,
  tenantId: string,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set({ status: 'enabled', disabled_reason: null, disabled_at: null, first_failure_at: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}
