import { sql, type RawBuilder } from 'kysely';
import type { DocumentRef } from '../storage/document-store';
import type { ApiFaxSubmission, Db, FaxAttempt, FaxEvent, FaxJob } from './schema';
import { DEFAULT_TENANT_ID } from './tenants';

/**
 * The HTTP API v1's reads and writes of fax jobs. Every function takes the caller's tenant and
 * filters by it: a job of another tenant is indistinguishable from one that does not exist.
 *
 * A job is seen through two rows: `api_fax_submissions` (written by the API when it accepts the
 * fax: metadata, broadcast, workflow id) and `fax_jobs` (written by the worker: status, pages,
 * outcome). Either may be missing: the worker has not registered a just-accepted job yet, or the
 * job was submitted by another path (the TypeScript client, the legacy `POST /faxes`).
 */

/** `fax_jobs.tenant_id` is null for jobs from before tenants: they belong to the default tenant. */
function jobTenant(column: string): RawBuilder<string> {
  return sql<string>`coalesce(${sql.ref(column)}, ${DEFAULT_TENANT_ID})`;
}

export interface NewSubmission {
  tenantId: string;
  jobId: string;
  workflowId: string;
  broadcastId?: string | null;
  recipient: string;
  recipientName?: string | null;
  documents: DocumentRef[];
  sendAt?: string | null;
  metadata: Record<string, string>;
}

/** Records accepted faxes; a replayed submission of the same job changes nothing. */
export async function insertSubmissions(db: Db, rows: NewSubmission[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('api_fax_submissions')
    .values(
      rows.map((r) => ({
        tenant_id: r.tenantId,
        job_id: r.jobId,
        workflow_id: r.workflowId,
        broadcast_id: r.broadcastId ?? null,
        recipient: r.recipient,
        recipient_name: r.recipientName ?? null,
        documents: JSON.stringify(r.documents),
        send_at: r.sendAt ?? null,
        metadata: JSON.stringify(r.metadata),
      })),
    )
    .onConflict((oc) => oc.columns(['tenant_id', 'job_id']).doNothing())
    .execute();
}

export interface V1JobRecord {
  id: string;
  tenantId: string;
  submission: ApiFaxSubmission | undefined;
  job: FaxJob | undefined;
}

/** One job of the tenant, or undefined (missing, or another tenant's: the same answer). */
export async function findV1Job(db: Db, tenantId: string, jobId: string): Promise<V1JobRecord | undefined> {
  const [submission, job] = await Promise.all([
    db
      .selectFrom('api_fax_submissions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('job_id', '=', jobId)
      .executeTakeFirst(),
    db
      .selectFrom('fax_jobs')
      .selectAll()
      // Rows are keyed by workflow id; the API names a job by its key within the tenant.
      .where('job_key', '=', jobId)
      .where(jobTenant('tenant_id'), '=', tenantId)
      .executeTakeFirst(),
  ]);
  if (!submission && !job) return undefined;
  return { id: jobId, tenantId, submission, job };
}

/** Several jobs of the tenant at once (a page of a listing), in the order of `ids`; missing ones left out. */
export async function findV1Jobs(
  db: Db,
  tenantId: string,
  ids: readonly string[],
): Promise<{ record: V1JobRecord; attempts: FaxAttempt[] }[]> {
  if (ids.length === 0) return [];
  const [submissions, jobs] = await Promise.all([
    db
      .selectFrom('api_fax_submissions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('job_id', 'in', ids)
      .execute(),
    db
      .selectFrom('fax_jobs')
      .selectAll()
      .where('id', 'in', ids)
      .where(jobTenant('tenant_id'), '=', tenantId)
      .execute(),
  ]);
  const attempts = jobs.length
    ? await db
        .selectFrom('fax_attempts')
        .selectAll()
        .where(
          'job_id',
          'in',
          jobs.map((j) => j.id),
        )
        .orderBy('job_id')
        .orderBy('attempt_no')
        .execute()
    : [];
  const out: { record: V1JobRecord; attempts: FaxAttempt[] }[] = [];
  for (const id of ids) {
    const submission = submissions.find((r) => r.job_id === id);
    const job = jobs.find((r) => r.id === id);
    if (!submission && !job) continue;
    out.push({
      record: { id, tenantId, submission, job },
      attempts: job ? attempts.filter((a) => a.job_id === job.id) : [],
    });
  }
  return out;
}

/** Attempts of a job already known to be the tenant's (look it up with findV1Job first). */
export async function listV1Attempts(db: Db, record: V1JobRecord): Promise<FaxAttempt[]> {
  if (!record.job) return [];
  return db
    .selectFrom('fax_attempts')
    .selectAll()
    .where('job_id', '=', record.job.id)
    .orderBy('attempt_no')
    .execute();
}

/** Events of a job already known to be the tenant's, oldest first, after `afterId`. */
export async function listV1Events(
  db: Db,
  record: V1JobRecord,
  opts: { afterId?: number; limit: number },
): Promise<FaxEvent[]> {
  if (!record.job) return [];
  let q = db.selectFrom('fax_events').selectAll().where('job_id', '=', record.job.id);
  if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
  return q.orderBy('id').limit(opts.limit).execute();
}

export interface V1ListFilters {
  statuses?: string[];
  recipient?: string;
  createdFrom?: Date;
  createdTo?: Date;
  metadataKey?: string;
  metadataValue?: string;
  broadcastId?: string;
}

/** Position after the last row of a page: (creation time in microseconds, id), newest first. */
export interface V1ListCursor {
  createdUs: string;
  id: string;
}

interface ListRow {
  id: string;
  created_us: string;
}

/**
 * The tenant's jobs, newest first, `limit` at a time, from Postgres (never Temporal visibility).
 * Returns the ids in order and the cursor for the next page; load each with findV1Job.
 */
export async function listV1JobIds(
  db: Db,
  tenantId: string,
  filters: V1ListFilters,
  opts: { limit: number; after?: V1ListCursor },
): Promise<{ ids: string[]; next: V1ListCursor | null }> {
  const conditions: RawBuilder<unknown>[] = [];
  if (filters.statuses?.length) {
    conditions.push(sql`coalesce(j.status, 'Accepted') in (${sql.join(filters.statuses)})`);
  }
  if (filters.recipient !== undefined) {
    conditions.push(sql`coalesce(j.recipient, s.recipient) = ${filters.recipient}`);
  }
  if (filters.createdFrom)
    conditions.push(sql`coalesce(s.created_at, j.created_at) >= ${filters.createdFrom}`);
  if (filters.createdTo) conditions.push(sql`coalesce(s.created_at, j.created_at) < ${filters.createdTo}`);
  if (filters.metadataKey !== undefined) {
    conditions.push(
      filters.metadataValue === undefined
        ? sql`s.metadata ? ${filters.metadataKey}`
        : sql`s.metadata @> ${JSON.stringify({ [filters.metadataKey]: filters.metadataValue })}::jsonb`,
    );
  }
  if (filters.broadcastId !== undefined) conditions.push(sql`s.broadcast_id = ${filters.broadcastId}`);
  const createdUs = sql`(extract(epoch from coalesce(s.created_at, j.created_at)) * 1000000)::bigint`;
  const id = sql`coalesce(s.job_id, j.job_key)`;
  if (opts.after) {
    conditions.push(sql`(${createdUs}, ${id}) < (${opts.after.createdUs}::bigint, ${opts.after.id})`);
  }
  const where = conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  const rows = await sql<ListRow>`
    select ${id} as id, ${createdUs}::text as created_us
    from (select * from api_fax_submissions where tenant_id = ${tenantId}) s
    full outer join (select * from fax_jobs where ${jobTenant('tenant_id')} = ${tenantId}) j
      on j.job_key = s.job_id
    ${where}
    order by ${createdUs} desc, ${id} desc
    limit ${opts.limit + 1}
  `.execute(db);
  const page = rows.rows.slice(0, opts.limit);
  const last = page.at(-1);
  const next = rows.rows.length > opts.limit && last ? { createdUs: last.created_us, id: last.id } : null;
  return { ids: page.map((r) => r.id), next };
}

/** The tenant's jobs of one broadcast, in recipient order. */
export async function listV1BroadcastJobIds(
  db: Db,
  tenantId: string,
  broadcastId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('api_fax_submissions')
    .select('job_id')
    .where('tenant_id', '=', tenantId)
    .where('broadcast_id', '=', broadcastId)
    .execute();
  const order = (id: string): number => Number(id.slice(id.lastIndexOf('~') + 1)) || 0;
  return rows.map((r) => r.job_id).sort((a, b) => order(a) - order(b));
}
