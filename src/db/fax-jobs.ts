import { sql } from 'kysely';
import type { DocumentRef } from '../storage/document-store';
import type { Db, FaxJob, NewFaxJob } from './schema';
import { isFinalStatus, type FaxJobStatus } from '../domain/fax-status';
import { observeFinalFaxJob } from '../metrics/metrics';
import { eventsForTransition, insertJobEvents } from './webhook-events';

/**
 * Creates the job row; a replayed or retried registration of the same job changes nothing, and
 * neither does one whose (tenant, key) another job already holds (the caller finds no row by its id).
 */
export async function insertFaxJob(db: Db, job: Omit<NewFaxJob, 'updated_at'>): Promise<void> {
  await db
    .insertInto('fax_jobs')
    .values({ ...job, updated_at: new Date() })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * `insertFaxJob` then `findFaxJob`, in one round trip: the row as it now is, whoever created it;
 * `undefined` when another job already holds this (tenant, key) under another id.
 */
export async function registerFaxJob(
  db: Db,
  job: Omit<NewFaxJob, 'updated_at'>,
): Promise<FaxJob | undefined> {
  const id = job.id;
  return db
    .with('created', (q) =>
      q
        .insertInto('fax_jobs')
        .values({ ...job, updated_at: new Date() })
        .onConflict((oc) => oc.doNothing())
        .returningAll(),
    )
    .selectFrom('created')
    .selectAll()
    .unionAll((q) =>
      q
        .selectFrom('fax_jobs')
        .selectAll()
        .where('id', '=', id)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('created').select('created.id')))),
    )
    .executeTakeFirst();
}

/** A job by its row id, which is its workflow id. */
export async function findFaxJob(db: Db, id: string): Promise<FaxJob | undefined> {
  return db.selectFrom('fax_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A job by what its tenant calls it: the idempotency key (jobs from before tenants: `default`). */
export async function findFaxJobByKey(db: Db, tenantId: string, jobKey: string): Promise<FaxJob | undefined> {
  return db
    .selectFrom('fax_jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('job_key', '=', jobKey)
    .executeTakeFirst();
}

/** The workflows of every unfinished job sent through a connection (to wake them when it is back). */
export async function listOpenJobWorkflowsOfConnection(db: Db, connectionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('fax_jobs')
    .select('workflow_id')
    .where('connection_id', '=', connectionId)
    .where('completed_at', 'is', null)
    .execute();
  return rows.map((r) => r.workflow_id);
}

export interface FaxJobStatusChange {
  status: FaxJobStatus;
  messageId?: string | null;
  pages?: number | null;
  attempts?: number;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** Closes the job even when the status alone does not say so (`Sent` on an account without delivery reports). */
  final?: boolean;
}

/** The columns a status change writes: one definition for every writer of a job's status. */
export function jobStatusAssignments(change: FaxJobStatusChange, now: Date) {
  return {
    status: change.status,
    updated_at: now,
    ...(change.messageId !== undefined && { message_id: change.messageId }),
    ...(change.pages !== undefined && { pages: change.pages }),
    ...(change.attempts !== undefined && { attempts: change.attempts }),
    ...(change.errorCode !== undefined && { error_code: change.errorCode }),
    ...(change.errorMessage !== undefined && { error_message: change.errorMessage }),
    ...((change.final || isFinalStatus(change.status)) && { completed_at: now }),
  };
}

/**
 * Moves a job to a new status. A job that already reached a final status is never reopened, so a
 * late or duplicated activity execution cannot overwrite the recorded outcome.
 */
export async function updateFaxJobStatus(db: Db, id: string, change: FaxJobStatusChange): Promise<boolean> {
  // The webhook outbox row is written in the same transaction as the change (events/README in
  // src/events/dispatcher.ts): callers passing the pool get a transaction of their own here.
  if (!db.isTransaction) return db.transaction().execute((trx) => updateFaxJobStatus(trx, id, change));
  const now = new Date();
  // One round trip: the row is locked and read as it was (`before`), updated unless already final,
  // and returned with the event types its tenant's enabled endpoints listen for. Under READ
  // COMMITTED, FOR UPDATE waits for a concurrent writer and then sees its committed row, so
  // `before_status` is the status this change really replaces.
  const updated = await db
    .updateTable('fax_jobs')
    .from(
      db
        .selectFrom('fax_jobs as b')
        .select('b.status as before_status')
        .where('b.id', '=', id)
        .forUpdate()
        .as('before'),
    )
    .set(jobStatusAssignments(change, now))
    .where('fax_jobs.id', '=', id)
    .where('fax_jobs.completed_at', 'is', null)
    .returningAll('fax_jobs')
    .returning([
      'before.before_status',
      sql<string[]>`(select coalesce(array_agg(distinct e), '{}') from webhook_endpoints w, unnest(w.events) e
        where w.tenant_id = coalesce(fax_jobs.tenant_id, 'default') and w.status = 'enabled' and w.deleted_at is null)`.as(
        'listening_events',
      ),
    ])
    .executeTakeFirst();
  if (!updated) return false;
  const { before_status, listening_events, ...job } = updated;
  const listening = new Set(listening_events);
  await insertJobEvents(
    db,
    job,
    eventsForTransition(
      { status: before_status, completed: false },
      { status: job.status, completed: job.completed_at !== null },
    ).filter((type) => listening.has(type)),
  );
  // Every final status goes through here once per job. Counted at the write: a transaction rolled
  // back afterwards and retried counts twice (rare: the surrounding event insert failing).
  if (isFinalStatus(change.status)) {
    observeFinalFaxJob({
      status: change.status,
      tenantId: job.tenant_id,
      submittedAt: job.created_at,
      completedAt: now,
    });
  }
  return true;
}

/**
 * What validation learnt about a job, and its `Validated` event, in one statement (atomic without
 * a transaction of its own: one round trip instead of four).
 */
export async function recordValidation(
  db: Db,
  id: string,
  validated: { recipient: string; pages: number; documents: DocumentRef[] },
  detail: Record<string, unknown>,
): Promise<void> {
  await db
    .with('validated', (q) =>
      q
        .updateTable('fax_jobs')
        .set({
          recipient: validated.recipient,
          pages: validated.pages,
          documents: JSON.stringify(validated.documents),
        })
        .where('id', '=', id)
        .returning('id'),
    )
    .insertInto('fax_events')
    .columns(['job_id', 'status', 'source', 'detail'])
    .expression((eb) =>
      eb
        .selectFrom('validated')
        .select([
          'validated.id',
          sql.lit('Validated').as('status'),
          sql.lit('validation').as('source'),
          sql`${JSON.stringify(detail)}::jsonb`.as('detail'),
        ]),
    )
    .execute();
}
