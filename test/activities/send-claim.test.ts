import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { DEFAULT_SEND_LEASE } from '../../src/activities/send-lease';
import { CONNECTION_UNAVAILABLE } from '../../src/contracts/connection-failure';
import type { DatabaseHandle } from '../../src/db/connection';
import { claimSend, listFaxAttempts } from '../../src/db/fax-attempts';
import { insertFaxJob } from '../../src/db/fax-jobs';
import { ConnectionUnavailableError } from '../../src/ringcentral/connections';
import { makeActivityDeps, runActivity, testDatabase, uniqueJobId } from '../support/database';
import { faxJobRow } from '../support/fax-job-row';
import { makeSamplePdf } from '../support/pdf-fixtures';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

/**
 * The send claim is one round trip (faxflow_claim_send, issue 13): these pin what it kept from the
 * steps it replaced: the order of the ownership check, the recorded attempt and the connection, and
 * the lease's exclusivity between concurrent executions.
 */
describe('the send claim', () => {
  it('a connection that needs reconnecting opens the attempt but holds no lease; a recorded attempt needs no connection', async () => {
    const made = await makeActivityDeps(database);
    let broken = true;
    const connectionId = `conn-${randomUUID()}`;
    const deps: ActivityDeps = {
      ...made.deps,
      connections: {
        forConnection: async (id) => {
          if (broken)
            throw new ConnectionUnavailableError(id, 'needs-reconnect', 'the refresh token expired');
          return made.ringcentral;
        },
        close: async () => undefined,
      },
    };
    const activities = createActivities(deps);
    const pdf = await deps.documents.put(await makeSamplePdf(1), {
      filename: 'a.pdf',
      contentType: 'application/pdf',
    });
    const jobId = uniqueJobId('claim');
    const ctx = { workflowExecution: { workflowId: jobId, runId: 'run-1' } };
    const prepared = await runActivity(
      activities.prepareFaxJob,
      {
        jobId,
        workflowId: jobId,
        connectionId,
        submittedAt: new Date().toISOString(),
        to: '+12025550161',
        documents: [pdf],
      },
      ctx,
    );
    if (!prepared.ok) throw new Error(prepared.message);
    const args = {
      jobId,
      attemptNo: 1,
      connectionId,
      recipient: prepared.recipient,
      documents: prepared.documents,
      workflowRunId: 'run-1',
    };

    const refused = await failureOf(runActivity(activities.sendFax, args, ctx));
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: CONNECTION_UNAVAILABLE, nonRetryable: true });
    const [opened] = await listFaxAttempts(database.db, jobId);
    expect(opened).toMatchObject({
      status: 'Sending',
      lease_token: null,
      lease_until: null,
      message_id: null,
    });
    expect(made.ringcentral.sent).toHaveLength(0);

    // Reconnected: nothing was held, so the send goes out at once (no wait for a lease).
    broken = false;
    const sent = await runActivity(activities.sendFax, args, ctx);
    expect(sent).toMatchObject({ adopted: false });
    expect(made.ringcentral.sent).toHaveLength(1);

    // A retry of a send that was recorded answers with its message, even while the connection is down.
    broken = true;
    expect(await runActivity(activities.sendFax, args, ctx)).toMatchObject({
      messageId: sent.messageId,
      adopted: true,
    });
    expect(made.ringcentral.sent).toHaveLength(1);
  });

  it('writes nothing for a job that has no row', async () => {
    const { deps, ringcentral } = await makeActivityDeps(database);
    const activities = createActivities(deps);
    const jobId = uniqueJobId('ghost');
    const refused = await failureOf(
      runActivity(
        activities.sendFax,
        { jobId, attemptNo: 1, recipient: '+12025550162', documents: [], workflowRunId: 'run-1' },
        { workflowExecution: { workflowId: jobId, runId: 'run-1' } },
      ),
    );
    expect(refused).toMatchObject({
      type: 'JobOwnedByAnotherRun',
      message: expect.stringContaining('has no row'),
    });
    expect(await listFaxAttempts(database.db, jobId)).toEqual([]);
    expect(ringcentral.sent).toHaveLength(0);
  });

  it('gives the lease to exactly one of concurrent executions, of one attempt and of two jobs to one number', async () => {
    const credentialKey = `cred-${randomUUID()}`;
    const recipient = '+12025550163';
    const jobs = [uniqueJobId('race'), uniqueJobId('race')];
    for (const id of jobs) await insertFaxJob(database.db, faxJobRow(id, { recipient }));
    const claim = (jobId: string) =>
      claimSend(database.db, {
        jobId,
        attemptNo: 1,
        credentialKey,
        recipient,
        token: randomUUID(),
        lease: true,
        ...DEFAULT_SEND_LEASE,
      });

    const sameAttempt = await Promise.all(Array.from({ length: 6 }, () => claim(jobs[0]!)));
    expect(sameAttempt.filter((c) => c.kind === 'acquired')).toHaveLength(1);
    expect(sameAttempt.filter((c) => c.kind === 'wait')).toHaveLength(5);
    for (const c of sameAttempt) {
      if (c.kind === 'wait') expect(c.reason).toContain('earlier execution of this send');
    }

    const otherJob = await claim(jobs[1]!);
    expect(otherJob).toMatchObject({
      kind: 'wait',
      reason: expect.stringContaining(`job ${jobs[0]} (attempt 1) has an unresolved send to the same number`),
    });
    expect(otherJob.kind === 'wait' && otherJob.ms).toBeGreaterThanOrEqual(1_000);
  });
});
