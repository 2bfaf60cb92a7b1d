import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery, webhooksDownSignal } from '../../src/contracts/workflow-messages';
import { DEFAULT_POLICY, type FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { maybeRecordHistory, startFaxWorkflow, withFakeWorkers, startTimeSkippingEnv } from './fake-workers';
import { fakeActivities } from './fake-activities';

/** Issue 8 #9d: a job told its connection's webhooks stopped polls at once, not 10 min later. */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const at = (result: { timeline: { status: string; at: string }[] }, status: string): number =>
  Date.parse(result.timeline.find((e) => e.status === status)?.at ?? 'x');

describe('FaxWorkflow when its webhooks stop (webhooksDown)', () => {
  it('polls at once instead of after pollWithWebhooksMs, and finishes', async () => {
    // Healthy webhooks at send time; the status would only ever arrive by poll.
    const fake = fakeActivities([[{ status: 'Delivered' }]], { webhooksHealthy: true });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { connectionId: 'c1' });
      while ((await handle.query(statusQuery)).next?.action !== 'check status')
        await new Promise((r) => setTimeout(r, 20));
      // Another connection's trouble is not this job's.
      await handle.signal(webhooksDownSignal, {
        connectionId: 'c2',
        reason: 'the subscription is Suspended',
      });
      await handle.signal(webhooksDownSignal, {
        connectionId: 'c1',
        reason: 'the subscription is Suspended',
      });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.polls()).toBe(1);
      expect(fake.observations).toEqual([{ status: 'Delivered', source: 'poll' }]);
      const state = await handle.query(statusQuery);
      expect(at(state, 'Delivered') - at(state, 'Queued')).toBeLessThan(
        DEFAULT_POLICY.pollWithWebhooksMs / 10,
      );
      await maybeRecordHistory(handle, 'webhooks-down-polls-at-once');
    });
  });

  it('polls at once after a send during which webhooks went down, though the send found them healthy', async () => {
    let tell: (() => Promise<void>) | undefined;
    const fake = fakeActivities([[{ status: 'Delivered' }]], {
      webhooksHealthy: true,
      duringSend: () => tell!(),
    });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { connectionId: 'c1' });
      tell = () =>
        handle.signal(webhooksDownSignal, { connectionId: 'c1', reason: 'the subscription is gone' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.polls()).toBe(1);
      const state = await handle.query(statusQuery);
      expect(at(state, 'Delivered') - at(state, 'Queued')).toBeLessThan(
        DEFAULT_POLICY.pollWithWebhooksMs / 10,
      );
    });
  });
});
