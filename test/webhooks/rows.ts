import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema';

/** A job of connection `credentialKey` with one attempt RingCentral accepted `agoSec` seconds ago (database clock). */
export async function inFlightJob(
  db: Kysely<Database>,
  credentialKey: string,
  agoSec: number,
): Promise<{ jobId: string; workflowId: string; messageId: string }> {
  const key = `job-${randomUUID()}`;
  // A job's row id is its workflow id.
  const jobId = `fax-${key}`;
  const messageId = randomUUID();
  await db
    .insertInto('fax_jobs')
    .values({
      id: jobId,
      job_key: key,
      workflow_id: jobId,
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
  return { jobId, workflowId: jobId, messageId };
}
