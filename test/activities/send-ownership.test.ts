import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import type { DatabaseHandle } from '../../src/db/connection';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { makeActivityDeps, runActivity, testDatabase, uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

/**
 * Issue 8 #9: a job id that comes back in another execution must not take over the row of the
 * run that registered it. Here run-1 sent attempt 1 and was terminated before finishing (its row
 * stays open, so prepareFaxJob lets a new execution of the same workflow id through); run-2's
 * send must not report run-1's fax as its own.
 */
describe('sendFax and the job row of another run', () => {
  it("refuses to use another run's job row, and still sends for a continued run of the owner", async () => {
    const { deps, ringcentral: rc } = await makeActivityDeps(database);
    const activities = createActivities(deps);
    const pdf = await deps.documents.put(await makeSamplePdf(1), {
      filename: 'letter.pdf',
      contentType: 'application/pdf',
    });
    const jobId = uniqueJobId('owned');
    // Rows are keyed by the job's workflow id, which the workflow passes as jobId.
    const workflowId = jobId;
    const ctx = (runId: string) => ({ workflowExecution: { workflowId, runId } });
    const prepare = (runId: string) =>
      runActivity(
        activities.prepareFaxJob,
        { jobId, workflowId, submittedAt: new Date().toISOString(), to: '+12025550150', documents: [pdf] },
        ctx(runId),
      );

    const first = await prepare('run-1');
    if (!first.ok) throw new Error(first.message);
    const send = (attemptNo: number, runId: string, workflowRunId: string) =>
      runActivity(
        activities.sendFax,
        { jobId, attemptNo, recipient: first.recipient, documents: first.documents, workflowRunId },
        ctx(runId),
      );
    const sent = await send(1, 'run-1', 'run-1');
    expect(sent).toMatchObject({ adopted: false });

    // A new execution of the same workflow id, after run-1 was terminated mid-wait.
    expect(await prepare('run-2')).toMatchObject({ ok: true });
    const refused = await send(1, 'run-2', 'run-2').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({
      type: 'JobOwnedByAnotherRun',
      nonRetryable: true,
      message: expect.stringContaining('run run-1'),
    });
    expect(rc.sent).toHaveLength(1);

    // run-1 continued as new: its later attempts are still its own.
    const redial = await send(2, 'run-1-continued', 'run-1');
    expect(redial).toMatchObject({ adopted: false });
    expect(redial.messageId).not.toBe(sent.messageId);
    expect(rc.sent).toHaveLength(2);
    expect((await listFaxAttempts(database.db, jobId)).map((a) => a.message_id)).toEqual([
      sent.messageId,
      redial.messageId,
    ]);
  });
});
