import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { broadcastWorkflowId, faxWorkflowId } from '../../src/contracts/workflow-ids';
import { FaxRecipientKey, FaxStatusKey } from '../../src/contracts/search-attributes';
import { cancelUpdate, rescheduleUpdate, statusQuery } from '../../src/contracts/workflow-messages';
import {
  SLOW_SEND_MS,
  type FaxBroadcastResult,
  type FaxWorkflowResult,
} from '../../src/contracts/workflow-types';
import { uniqueJobId } from '../support/database';
import { upsertsOf as upsertsOfRun } from '../support/upserts';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, STATUS_MODEL, startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('the pipeline under faults', () => {
  it('sends no fax twice when RingCentral accepts sends but cuts the connection', async () => {
    await stack.setFaults({ seed: 7, ambiguousSendRate: 0.5 });
    try {
      const numbers = Array.from({ length: 12 }, (_, i) => `+1202555${String(1000 + i)}`);
      const jobs = await Promise.all(
        numbers.map(async (to) => {
          const jobId = uniqueJobId('ambiguous');
          await stack.faxClient.startFax({
            to,
            idempotencyKey: jobId,
            documents: [{ bytes: await makeSamplePdf(1, jobId), filename: 'a.pdf' }],
            policy: FAST_POLICY,
          });
          return { jobId, to };
        }),
      );
      const results = await Promise.all(
        jobs.map(
          async ({ jobId }) =>
            (await stack.client.workflow.getHandle(faxWorkflowId(jobId)).result()) as FaxWorkflowResult,
        ),
      );
      expect(results.map((r) => r.status)).toEqual(numbers.map(() => OUTCOME.success));
      // Ground truth from the simulator: exactly one fax per recipient.
      for (const to of numbers) expect(await stack.simFaxes(to)).toHaveLength(1);
      const simFaxes = (await Promise.all(numbers.map((to) => stack.simFaxes(to)))).flat();
      const ambiguous = simFaxes.filter((f) => f.ambiguous);
      expect(ambiguous.length).toBeGreaterThan(0);
      // Each cut-off send was adopted, not repeated.
      let adopted = 0;
      for (const { jobId } of jobs) {
        const events = await listFaxEvents(stack.db, faxWorkflowId(jobId));
        adopted += events.filter((e) => (e.detail as { adopted?: boolean } | null)?.adopted).length;
      }
      expect(adopted).toBe(ambiguous.length);
      const adoptedJob = jobs.find(({ to }) =>
        simFaxes.find((f) => f.ambiguous && f.recipients[0]?.phoneNumber === to),
      );
      await stack.maybeRecordHistory(faxWorkflowId(adoptedJob!.jobId), 'ambiguous-send-adopted');
    } finally {
      await stack.setFaults({});
    }
  });

  it('retries 429s after their Retry-After and still sends each fax once', async () => {
    await stack.setFaults({ seed: 3, error429Rate: 0.5, groups: ['Heavy'] });
    try {
      const numbers = Array.from({ length: 6 }, (_, i) => `+1202555${String(2000 + i)}`);
      const jobIds = await Promise.all(
        numbers.map(async (to) => {
          const jobId = uniqueJobId('limited');
          await stack.faxClient.startFax({
            to,
            idempotencyKey: jobId,
            documents: [{ bytes: await makeSamplePdf(1, jobId), filename: 'a.pdf' }],
            policy: FAST_POLICY,
          });
          return jobId;
        }),
      );
      for (const jobId of jobIds) {
        expect(
          ((await stack.client.workflow.getHandle(faxWorkflowId(jobId)).result()) as FaxWorkflowResult)
            .status,
        ).toBe(OUTCOME.success);
      }
      for (const to of numbers) expect(await stack.simFaxes(to)).toHaveLength(1);
      const limited = [];
      for (const jobId of jobIds) {
        const attempts = await listFaxAttempts(stack.db, faxWorkflowId(jobId));
        if (attempts[0]?.error_code === 'CMN-301') limited.push(jobId);
      }
      expect(limited.length).toBeGreaterThan(0);
      await stack.maybeRecordHistory(faxWorkflowId(limited[0]!), 'rate-limited');
    } finally {
      await stack.setFaults({});
    }
  });

  it('reports a broadcast with partial success', async () => {
    const broadcastId = uniqueJobId('broadcast');
    const started = await stack.faxClient.startBroadcast({
      idempotencyKey: broadcastId,
      recipients: [
        { to: '+12025550123', name: 'Front desk' },
        { to: '+15550000003' },
        { to: 'not a number' },
        { to: '+15550000001' },
      ],
      documents: [{ bytes: await makeSamplePdf(2), filename: 'notice.pdf' }],
      policy: FAST_POLICY,
    });
    expect(started.jobIds).toEqual([1, 2, 3, 4].map((i) => `${broadcastId}~${i}`));
    const handle = stack.client.workflow.getHandle(broadcastWorkflowId(broadcastId));
    const result = (await handle.result()) as FaxBroadcastResult;
    expect(result).toMatchObject({
      total: 4,
      finished: 4,
      succeeded: 2,
      failed: 2,
      counts: { [OUTCOME.success]: 2, Failed: 1, Rejected: 1 },
    });
    expect(result.results.map((r) => [r.jobId, r.status])).toEqual([
      [`${broadcastId}~1`, OUTCOME.success],
      [`${broadcastId}~2`, 'Failed'],
      [`${broadcastId}~3`, 'Rejected'],
      [`${broadcastId}~4`, OUTCOME.success],
    ]);
    await stack.maybeRecordHistory(handle.workflowId, 'broadcast-quiet-queued-children');
    // The children got the client's flags (issue 13): FaxRecipient at their start, FaxStatus
    // upserted where it lasts, no patch markers: a delivered child upserts its message id with the
    // first status shown (Queued if it lasted SLOW_SEND_MS, else the next), then each later status
    // once; a rejected one once.
    const upsertsOf = async (jobId: string) =>
      (await upsertsOfRun(stack.client.workflow.getHandle(faxWorkflowId(jobId)))).map((u) => u.names);
    const delivered = await upsertsOf(`${broadcastId}~1`);
    expect(delivered[0]).toEqual(['FaxMessageId', 'FaxStatus']);
    // Queued goes out only when the next status came SLOW_SEND_MS or more after it: then, and only
    // then (give or take a task's few ms), the child upserts once more than its later statuses.
    const timeline = (
      await stack.client.workflow.getHandle(faxWorkflowId(`${broadcastId}~1`)).query(statusQuery)
    ).timeline;
    const queuedAt = timeline.findIndex((e) => e.status === 'Queued');
    const lasted = Date.parse(timeline[queuedAt + 1]!.at) - Date.parse(timeline[queuedAt]!.at);
    const later = new Set(timeline.slice(queuedAt + 1).map((e) => e.status)).size;
    if (lasted < SLOW_SEND_MS) expect(delivered).toHaveLength(later);
    expect(delivered.slice(1).every((keys) => keys.join() === 'FaxStatus')).toBe(true);
    // Sent final: Queued if it lasted, Sent. Delivery reports: Queued if it lasted, Sent if it was
    // seen apart, Delivered.
    expect(delivered.length).toBeLessThanOrEqual(STATUS_MODEL === 'sent-final' ? 2 : 3);
    expect(delivered.length).toBeGreaterThanOrEqual(1);
    expect(await upsertsOf(`${broadcastId}~3`)).toEqual([['FaxStatus']]);
    const child = await stack.client.workflow.getHandle(faxWorkflowId(`${broadcastId}~1`)).describe();
    expect(child.typedSearchAttributes.get(FaxRecipientKey)).toBe('+12025550123');
    expect(child.typedSearchAttributes.get(FaxStatusKey)).toBe(OUTCOME.success);
  });

  it('with schedule "ringcentral", hands RingCentral the send time and cancels by deleting the message', async () => {
    const jobId = uniqueJobId('rcsched');
    const sendAt = new Date(Date.now() + 3600_000);
    await stack.faxClient.startFax({
      to: '+12025550166',
      idempotencyKey: jobId,
      sendAt,
      schedule: 'ringcentral',
      documents: [{ bytes: await makeSamplePdf(1), filename: 'a.pdf' }],
      policy: FAST_POLICY,
    });
    const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
    while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 50));
    const [held] = await stack.simFaxes('+12025550166');
    expect(held).toMatchObject({ sendTime: sendAt.toISOString(), messageStatus: 'Queued' });
    expect(await handle.executeUpdate(cancelUpdate)).toEqual({ canceled: true });
    expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Canceled');
    const [after] = await stack.simFaxes('+12025550166');
    expect(after).toMatchObject({ cancelled: true });
    expect(after!.history.map((h) => h.status)).not.toContain('Sent');
  });

  it('sends a rescheduled fax at its new time', async () => {
    const jobId = uniqueJobId('resched');
    await stack.faxClient.startFax({
      to: '+12025550123',
      idempotencyKey: jobId,
      sendAt: new Date(Date.now() + 3600_000),
      documents: [{ bytes: await makeSamplePdf(1), filename: 'a.pdf' }],
      policy: FAST_POLICY,
    });
    const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
    while ((await handle.query(statusQuery)).status !== 'Scheduled')
      await new Promise((r) => setTimeout(r, 50));
    const soon = new Date(Date.now() + 1000).toISOString();
    expect(await handle.executeUpdate(rescheduleUpdate, { args: [soon] })).toEqual({
      rescheduled: true,
      sendAt: soon,
    });
    const result = (await handle.result()) as FaxWorkflowResult;
    expect(result.status).toBe(OUTCOME.success);
    const state = await handle.query(statusQuery);
    const sendingAt = Date.parse(state.timeline.find((e) => e.status === 'Sending')!.at);
    expect(sendingAt).toBeGreaterThanOrEqual(Date.parse(soon));
    await stack.maybeRecordHistory(handle.workflowId, 'rescheduled');
  });
});
