import type { ApiFaxSubmission, Db, FaxAttempt, FaxJob } from './schema';

/**
 * The reads events and reports need, always filtered by tenant: another tenant's job is not
 * found, exactly like a job that does not exist. Jobs from before tenants count as `default`'s.
 */
export async function findTenantFaxJob(db: Db, tenantId: string, jobId: string): Promise<FaxJob | undefined> {
  return (
    db
      .selectFrom('fax_jobs')
      .selectAll()
      // `jobId` is the job's key within the tenant; the row's id is its workflow id.
      .where('job_key', '=', jobId)
      .where((eb) =>
        tenantId === 'default'
          ? eb.or([eb('tenant_id', '=', tenantId), eb('tenant_id', 'is', null)])
          : eb('tenant_id', '=', tenantId),
      )
      .executeTakeFirst()
  );
}

/** A job's attempts in order; `startedBy` keeps those begun by then (an event's view of the job). */
export async function listJobAttempts(db: Db, jobId: string, startedBy?: Date): Promise<FaxAttempt[]> {
  let q = db.selectFrom('fax_attempts').selectAll().where('job_id', '=', jobId);
  if (startedBy) q = q.where('started_at', '<=', startedBy);
  return q.orderBy('attempt_no').execute();
}

/** What the API recorded when it accepted the job (metadata, recipient name, broadcast), if it came through v1. */
export async function findJobSubmission(
  db: Db,
  tenantId: string,
  jobKey: string,
): Promise<Pick<ApiFaxSubmission, 'metadata' | 'recipient_name' | 'broadcast_id'> | undefined> {
  return db
    .selectFrom('api_fax_submissions')
    .select(['metadata', 'recipient_name', 'broadcast_id'])
    .where('tenant_id', '=', tenantId)
    .where('job_id', '=', jobKey)
    .executeTakeFirst();
}
