import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, FaxJob, WebhookEventRow } from './schema';

/** The job statuses that upstream hears about, and the event each one raises. */
const EVENT_OF_STATUS: Readonly<Record<string, string>> = {
  Queued: 'fax.queued',
  Sent: 'fax.sent',
  Delivered: 'fax.delivered',
  SentUnconfirmed: 'fax.delivered',
  Failed: 'fax.failed',
  Canceled: 'fax.canceled',
  Rejected: 'fax.rejected',
  Expired: 'fax.expired',
};

/**
 * The events one status write raises. A status the job already had raises nothing (a repeated
 * observation); `Sent` that closes the job (an account without delivery reports) is its final
 * success, so it also raises `fax.delivered`.
 */
export function eventsForTransition(
  before: { status: string; completed: boolean },
  after: { status: string; completed: boolean },
): string[] {
  const types: string[] = [];
  const mapped = EVENT_OF_STATUS[after.status];
  if (after.status !== before.status && mapped) types.push(mapped);
  if (after.status === 'Sent' && after.completed && !before.completed) types.push('fax.delivered');
  return types;
}

export function newEventId(): string {
  return `evt_${randomBytes(12).toString('hex')}`;
}

/**
 * Writes outbox rows for a job's status change; `db` must be the transaction that changed the
 * status (the transactional outbox: the event exists exactly when the change committed). `types`
 * holds only the types an enabled endpoint of the tenant listens for (`updateFaxJobStatus` reads
 * them in its update statement), so the outbox does not grow for tenants that never registered one. The per-job sequence comes from an upsert, which
 * serialises concurrent writers of one job.
 */
export async function insertJobEvents(db: Db, job: FaxJob, types: string[]): Promise<void> {
  const tenantId = job.tenant_id ?? 'default';
  for (const type of types) {
    const { last_sequence } = await db
      .insertInto('webhook_job_sequences')
      .values({ job_id: job.id, last_sequence: 1 })
      .onConflict((oc) =>
        oc
          .column('job_id')
          .doUpdateSet({ last_sequence: sql<number>`webhook_job_sequences.last_sequence + 1` }),
      )
      .returning('last_sequence')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('webhook_events')
      .values({
        event_id: newEventId(),
        tenant_id: tenantId,
        job_id: job.id,
        type,
        sequence: last_sequence,
        payload: JSON.stringify(job),
      })
      .execute();
  }
}

async function hasListeningEndpoint(db: Db, tenantId: string, type: string): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'enabled')
    .where('deleted_at', 'is', null)
    .where(sql<boolean>`${type} = any(events)`)
    .executeTakeFirst();
  return row !== undefined;
}

/** A broadcast's completion: one event per broadcast however often it is recorded. */
export async function insertBroadcastCompletedEvent(
  db: Db,
  broadcast: { tenantId: string; broadcastId: string; payload: Record<string, unknown> },
): Promise<void> {
  if (!(await hasListeningEndpoint(db, broadcast.tenantId, 'broadcast.completed'))) return;
  const key = `broadcast:${broadcast.tenantId}:${broadcast.broadcastId}`;
  await db
    .insertInto('webhook_job_sequences')
    .values({ job_id: key, last_sequence: 1 })
    .onConflict((oc) => oc.column('job_id').doNothing())
    .execute();
  await db
    .insertInto('webhook_events')
    .values({
      event_id: newEventId(),
      tenant_id: broadcast.tenantId,
      job_id: key,
      type: 'broadcast.completed',
      sequence: 1,
      payload: JSON.stringify(broadcast.payload),
    })
    .onConflict((oc) => oc.columns(['job_id', 'sequence']).doNothing())
    .execute();
}

/** The oldest events not yet handed to delivery workflows, in the order they were written. */
export async function listUndispatchedEvents(db: Db, limit: number): Promise<WebhookEventRow[]> {
  return db
    .selectFrom('webhook_events')
    .selectAll()
    .where('dispatched_at', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function sealEventBody(db: Db, id: string, body: string): Promise<void> {
  await db
    .updateTable('webhook_events')
    .set({ body })
    .where('id', '=', id)
    .where('body', 'is', null)
    .execute();
}

export async function markEventDispatched(db: Db, id: string): Promise<void> {
  await db.updateTable('webhook_events').set({ dispatched_at: new Date() }).where('id', '=', id).execute();
}

export async function findWebhookEvent(db: Db, eventId: string): Promise<WebhookEventRow | undefined> {
  return db.selectFrom('webhook_events').selectAll().where('event_id', '=', eventId).executeTakeFirst();
}
