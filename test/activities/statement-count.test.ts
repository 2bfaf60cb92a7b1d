import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createActivities } from '../../src/activities';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob } from '../../src/db/fax-jobs';
import type { DatabaseHandle } from '../../src/db/connection';
import type { Database } from '../../src/db/schema';
import type { DocumentRef } from '../../src/storage/document-store';
import { makeActivityDeps, runActivity, testDatabase, uniqueJobId } from '../support/database';
import { FakeRingCentral } from '../support/fake-ringcentral';
import { makeSamplePdf } from '../support/pdf-fixtures';

/**
 * Issue 13: every Postgres round trip costs CPU in the worker and in the backend, and the
 * throughput bench is CPU-bound. This counts the statements one delivered fax's activities send
 * (prepare, send, the Delivered observation, the final record) and guards the bound. The rate
 * budget's three calls and the receiver's notification rows are not in this path (the fake
 * RingCentral takes no slots; no webhook arrives here). The second fax of a credential is counted:
 * the first one also stores that its account reports delivery and reads the webhook health, which
 * a worker then reuses (for 2 s) instead of asking for every send.
 *
 * Before issue 13: 26 statements (4 transactions); now 6 single statements, no transaction.
 */
let database: DatabaseHandle;
let counted: Kysely<Database>;
let statements: string[] = [];

beforeAll(() => {
  database = testDatabase();
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      statements.push((text ?? '?').replace(/\s+/g, ' ').trim().slice(0, 90));
      return query(...args);
    };
  });
  counted = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
});
afterAll(async () => {
  await counted.destroy();
  await database.close();
});

async function deliverOneFax(activities: ReturnType<typeof createActivities>, pdfRef: DocumentRef) {
  const jobId = uniqueJobId('count');
  const execution = { workflowExecution: { workflowId: jobId, runId: `run-${jobId}` } };
  const prepared = await runActivity(
    activities.prepareFaxJob,
    {
      jobId,
      workflowId: jobId,
      submittedAt: new Date().toISOString(),
      to: '+12025550177',
      documents: [pdfRef],
    },
    execution,
  );
  if (!prepared.ok) throw new Error(prepared.message);
  const sent = await runActivity(
    activities.sendFax,
    {
      jobId,
      attemptNo: 1,
      recipient: prepared.recipient,
      documents: prepared.documents,
      workflowRunId: execution.workflowExecution.runId,
    },
    execution,
  );
  const ref = { jobId, attemptNo: 1, messageId: sent.messageId, recipient: prepared.recipient };
  await runActivity(
    activities.recordFaxObservation,
    { ...ref, known: 'Queued', observation: { status: 'Delivered' }, source: 'webhook' },
    execution,
  );
  await runActivity(
    activities.recordJobStatus,
    { jobId, status: 'Delivered', attempts: 1, messageId: sent.messageId, final: true },
    execution,
  );
  return { jobId, messageId: sent.messageId };
}

describe('Postgres statements per delivered fax (issue 13)', () => {
  it('stays within the bound, with every row and event recorded', async () => {
    const made = await makeActivityDeps(database, new FakeRingCentral());
    const activities = createActivities({ ...made.deps, db: counted });
    const pdf = await made.deps.documents.put(await makeSamplePdf(1), {
      filename: 'count.pdf',
      contentType: 'application/pdf',
    });
    // The first fax of a credential also records that its account reports delivery.
    await deliverOneFax(activities, pdf);
    statements = [];
    const { jobId, messageId } = await deliverOneFax(activities, pdf);
    const perFax = statements;
    statements = [];

    expect(await findFaxJob(database.db, jobId)).toMatchObject({
      status: 'Delivered',
      message_id: messageId,
      attempts: 1,
    });
    expect((await findFaxJob(database.db, jobId))?.completed_at).not.toBeNull();
    const [attempt] = await listFaxAttempts(database.db, jobId);
    expect(attempt).toMatchObject({ status: 'Delivered', message_id: messageId });
    expect(attempt?.finished_at).not.toBeNull();
    expect((await listFaxEvents(database.db, jobId)).map((e) => [e.status, e.source])).toEqual([
      ['Validated', 'validation'],
      ['Queued', 'send'],
      ['Delivered', 'webhook'],
      ['Delivered', 'workflow'],
    ]);
    console.log(`statements per delivered fax: ${perFax.length}\n${perFax.join('\n')}`);
    expect(perFax.length, perFax.join('\n')).toBeLessThanOrEqual(6);
  });
});
