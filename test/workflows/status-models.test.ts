import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryStatusSignal, statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxWorkflowInput, FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { maybeRecordHistory, startFaxWorkflow, withFakeWorkers, startTimeSkippingEnv } from './fake-workers';
import { fakeActivities } from './fake-activities';

/**
 * FaxWorkflow under both kinds of RingCentral account (Sent final, or Delivered after Sent) and
 * with statuses that arrive before the workflow knows the message id, on the time-skipping server.
 */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

function withWorkers<T>(
  fake: ReturnType<typeof fakeActivities>,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  return withFakeWorkers(env, fake, fn);
}

function start(taskQueue: string, input: Partial<FaxWorkflowInput> = {}) {
  return startFaxWorkflow(env, taskQueue, input);
}

const at = (result: { timeline: { status: string; at: string }[] }, status: string): number =>
  Date.parse(result.timeline.find((e) => e.status === status)?.at ?? 'x');

describe('FaxWorkflow on an account that does not report delivery (sent-final)', () => {
  it('ends as Sent at the first poll that shows Sent, without the quiet period', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Sent' }]], { sentIsFinal: true });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Sent', attempts: 1 });
      expect(fake.polls()).toBe(2);
      expect(fake.recorded).toEqual([{ status: 'Sent' }]);
      const state = await handle.query(statusQuery);
      expect(state.status).toBe('Sent');
      // Two polls (30 s, then 60 s), not the 30 min quiet period.
      expect(at(state, 'Sent') - at(state, 'Queued')).toBeLessThan(5 * 60_000);
    });
  });

  it('ends as Sent at once when the Sent status comes by webhook', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }]], { sentIsFinal: true, webhooksHealthy: true });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      await handle.signal(deliveryStatusSignal, { messageId: 'm1', status: 'Sent' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Sent');
      expect(fake.polls()).toBe(0);
      expect(fake.observations).toEqual([{ status: 'Sent', source: 'webhook' }]);
    });
  });

  it('redials a line failure reported as SendingFailed with its faxErrorCode', async () => {
    const busy = [{ status: 'SendingFailed' as const, faxErrorCode: 'LineBusy' }];
    const fake = fakeActivities([busy, [{ status: 'Sent' }]], { sentIsFinal: true });
    await withWorkers(fake, async (tq) => {
      const result = (await (await start(tq)).result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Sent', attempts: 2 });
      expect(fake.sends).toHaveLength(2);
    });
  });

  it('does not redial an invalid number', async () => {
    const fake = fakeActivities([[{ status: 'SendingFailed', faxErrorCode: 'InvalidNumber' }]], {
      sentIsFinal: true,
    });
    await withWorkers(fake, async (tq) => {
      const result = (await (await start(tq)).result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Failed', errorCode: 'InvalidNumber', attempts: 1 });
      expect(fake.sends).toHaveLength(1);
    });
  });
});

describe('FaxWorkflow on an account that reports delivery', () => {
  it('keeps waiting after Sent and ends as Delivered', async () => {
    const fake = fakeActivities([[{ status: 'Sent' }, { status: 'Sent' }, { status: 'Delivered' }]], {
      sentIsFinal: false,
    });
    await withWorkers(fake, async (tq) => {
      const result = (await (await start(tq)).result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.polls()).toBe(3);
    });
  });
});

describe('FaxWorkflow with a status that arrives before its message id is known (issue 8 #12)', () => {
  it('applies a status signalled while the send was in flight instead of waiting for a poll', async () => {
    let handleSignal: ((messageId: string) => Promise<void>) | undefined;
    const fake = fakeActivities([[{ status: 'Queued' }]], {
      webhooksHealthy: true,
      duringSend: (messageId) => handleSignal!(messageId),
    });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      // The webhook's status reaches the workflow before sendFax has returned the message id.
      handleSignal = (messageId) => handle.signal(deliveryStatusSignal, { messageId, status: 'Delivered' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.polls()).toBe(0);
      expect(fake.observations).toEqual([{ status: 'Delivered', source: 'webhook' }]);
      const state = await handle.query(statusQuery);
      expect(at(state, 'Delivered') - at(state, 'Queued')).toBeLessThan(60_000);
      await maybeRecordHistory(handle, 'early-status-signal-buffered');
    });
  });
});
