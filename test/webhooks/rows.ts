import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema';

/** A job of `credentialKey` with one attempt RingCentral accepted `agoSec` seconds ago (database clock). */
export async function inFlightJob(
  db: Kysely<Database>,
  credentialKey: string,
  agoSec: number,
): Promise<{ jobId: string; workflowId: string; messageId: string }> {
  const jobId = `job-${randomUUID()}`;
  const messageId = randomUUID();
  await db
    .insertInto('fax_jobs')
    .values({
      id: `fax-${jobId}`,
      job_key: jobId,
      workflow_id: `fax-${jobId}`,
      connection_id: credentialKey,
      recipient: '+12025550123',
      documents: '[]',
      sha256: 'a'.repeat(64),
      size_bytes: 1,
      pages: 1,
      status: 'Queued',
      message_id: messageId,
      send_at: null,
      error_code: null,
      error_message: null,
      updated_at: new Date(),
      completed_at: null,
    })
    .execute();
  await db
    .insertInto('fax_attempts')
    .values({
      job_id: jobId,
      attempt_no: 1,
      message_id: messageId,
      status: 'Queued',
      fax_error_code: null,
      error_code: null,
      error_message: null,
      started_at: sql<Date>`now() - make_interval(secs => ${agoSec})`,
      finished_at: null,
    } as never)
    .execute();
  return { jobId, workflowId: `fax-${jobId}`, messageId };
}
