import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendFaxArgs } from '../../src/activities/send-fax';
import { cancelUpdate, deliveryStatusSignal, statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { fakeActivities, gate } from './fake-activities';
import { DOC, startFaxWorkflow, withFakeWorkers, startTimeSkippingEnv } from './fake-workers';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const MINUTE = 60_000;

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met');
}

/** After `n` completed activities, a workflow task completed and nothing was scheduled since: idle. */
async function settledAfterActivities(handle: WorkflowHandle, n: number): Promise<boolean> {
  const events = (await handle.fetchHistory()).events ?? [];
  const completed = events.filter((e) => e.activityTaskCompletedEventAttributes);
  const lastCompleted = events.indexOf(completed.at(-1)!);
  const lastTask = events.findLastIndex((e) => e.workflowTaskCompletedEventAttributes);
  const laterTask = events.slice(lastTask + 1).some((e) => e.workflowTaskScheduledEventAttributes);
  return completed.length >= n && lastTask > lastCompleted && !laterTask;
}

/**
 * Patch `continue-as-new-keeps-handler-results` (issue 8 #10): when a run is due to continue as
 * new, it first waits for its running handlers; a cancel that completes in that wait must end the
 * job as Canceled, not be dropped by handing a stale state (still waiting for the message that the
 * cancel just deleted) to the successor.
 */
describe('FaxWorkflow continue-as-new (time-skipping)', () => {
  it('acts on a cancel that completed while it waited for handlers before continuing as new', async () => {
    const deleting = gate();
    const fake = fakeActivities([[{ status: 'Queued' }]], {
      cancelScheduled: async () => {
        await deleting.pass();
        return { canceled: true };
      },
    });
    // The predecessor's send of m1, which RingCentral holds for its send time (status Queued).
    await fake.activities.sendFax({
      jobId: 'j',
      attemptNo: 1,
      recipient: '+12025550123',
      documents: [],
    } as SendFaxArgs);
    await withFakeWorkers(env, fake, async (tq) => {
      const now = await env.currentTimeMs();
      const sendAtMs = now + 10 * MINUTE;
      const handle = await startFaxWorkflow(env, tq, {
        schedule: 'ringcentral',
        sendAt: new Date(sendAtMs).toISOString(),
        // Past this many events the run hands over: not at its first look, but after the status below.
        policy: { continueAsNewAfterEvents: 12 },
        resume: {
          recipient: '+12025550123',
          documents: [DOC],
          attempt: 1,
          failedAttempts: 0,
          messageId: 'm1',
          known: 'Queued',
          sendAtMs,
          deadline: now + 2 * 60 * MINUTE,
          timeline: [],
        },
      });
      await until(async () => (await handle.query(statusQuery)).status === 'Queued');

      // A cancel while RingCentral still holds the fax: its delete is in flight ...
      const canceled = handle.executeUpdate(cancelUpdate);
      await deleting.reached;
      // ... when a status webhook's record makes the history long enough to continue as new, so the
      // run waits for the cancel handler before handing over.
      await handle.signal(deliveryStatusSignal, { messageId: 'm1', status: 'Sent' });
      await until(() => fake.observations.length === 1);
      await until(() => settledAfterActivities(handle, 1));
      deleting.open();

      expect(await canceled).toEqual({ canceled: true });
      // It ends in the run that took the cancel, not in a successor that knows nothing of it.
      const firstRun = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      await until(async () => (await firstRun.describe()).status.name !== 'RUNNING');
      expect((await firstRun.describe()).status.name).toBe('COMPLETED');
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Canceled');
      expect(fake.canceledMessages).toEqual(['m1']);
      expect(fake.recorded.at(-1)).toMatchObject({ status: 'Canceled' });
      expect(fake.polls()).toBe(0);
    });
  });
});
