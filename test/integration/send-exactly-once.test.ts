import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import type { FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

// Issue 8's critical scenarios 1-3 against real Temporal, Postgres and the simulator's faults.
// Ground truth is the simulator's record of what it accepted, never faxflow's own tables.

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    // A send whose answer takes longer than this is ambiguous: the adapter aborts it on the socket.
    requestTimeoutMs: 1_500,
    sendLease: { leaseMs: 4_000, renewMs: 1_000, settleMs: 1_000 },
  });
});
afterAll(async () => {
  await stack?.stop();
});

async function submit(to: string, filename: string, pages = 1): Promise<{ jobId: string; filename: string }> {
  const jobId = uniqueJobId('once');
  await stack.faxClient.startFax({
    to,
    idempotencyKey: jobId,
    documents: [{ bytes: await makeSamplePdf(pages, jobId), filename }],
    policy: FAST_POLICY,
  });
  return { jobId, filename };
}

async function result(jobId: string): Promise<FaxWorkflowResult> {
  return (await stack.client.workflow.getHandle(faxWorkflowId(jobId)).result()) as FaxWorkflowResult;
}

/** Every job delivered with a fax of its own document, and no document sent twice. */
async function expectEachSentOnce(jobs: { jobId: string; filename: string }[], numbers: string[]) {
  const results = await Promise.all(jobs.map(({ jobId }) => result(jobId)));
  expect(results.map((r) => r.status)).toEqual(jobs.map(() => OUTCOME.success));
  const faxes = (await Promise.all([...new Set(numbers)].map((to) => stack.simFaxes(to)))).flat();
  expect(faxes.map((f) => f.attachments[0]!.filename).sort()).toEqual(jobs.map((j) => j.filename).sort());
  for (const [i, job] of jobs.entries()) {
    const own = faxes.find((f) => String(f.id) === results[i]!.messageId);
    expect(own?.attachments[0]?.filename).toBe(job.filename);
  }
  return faxes;
}

describe('exactly once, under the faults of issue 8', () => {
  it('adopts the fax when RingCentral stores it but answers after the request timeout', async () => {
    await stack.setFaults({ acceptAfterMs: 3_000, acceptAfterRate: 1 });
    try {
      const numbers = ['+12025553001', '+12025553002', '+12025553002'];
      const jobs = await Promise.all(numbers.map((to, i) => submit(to, `late-${i}.pdf`)));
      await expectEachSentOnce(jobs, numbers);
      expect(((await stack.simStats()) as { delayedAccepts?: number }).delayedAccepts).toBeGreaterThan(0);
    } finally {
      await stack.setFaults({});
    }
  });

  it('never swaps faxes between jobs to the same number when sends are cut off', async () => {
    // Every send is stored and then cut off: each job must find its own fax among its neighbours'.
    await stack.setFaults({ ambiguousSendRate: 1 });
    try {
      const numbers = ['+12025553101', '+12025553101', '+12025553101', '+12025553102', '+12025553102'];
      const jobs = await Promise.all(numbers.map((to, i) => submit(to, `doc-${i}.pdf`, 1 + (i % 2))));
      const faxes = await expectEachSentOnce(jobs, numbers);
      expect(faxes.every((f) => f.ambiguous)).toBe(true);
    } finally {
      await stack.setFaults({});
    }
  });

  it('heals token-endpoint 503s and refused refreshes without failing a fax or a restart', async () => {
    await stack.setFaults({ tokenError503Count: 3, refreshInvalidGrantCount: 2 });
    // Every session ends: the next calls need a refresh (refused), then a new login (503s first).
    const revoked = await fetch(`${stack.simulator.url}/_sim/users/~/revoke`, { method: 'POST' });
    expect(revoked.ok).toBe(true);
    try {
      const numbers = ['+12025553201', '+12025553202', '+12025553203'];
      const jobs = await Promise.all(numbers.map((to, i) => submit(to, `auth-${i}.pdf`)));
      await expectEachSentOnce(jobs, numbers);
      const faults = (await (await fetch(`${stack.simulator.url}/_sim/faults`)).json()) as {
        tokenError503Count: number;
      };
      expect(faults.tokenError503Count).toBe(0);
    } finally {
      await stack.setFaults({});
    }
  });
});
