import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFaxEvents } from '../../src/db/fax-events';
import pino from 'pino';
import { faxWorkflowId, reconcileWorkflowId } from '../../src/contracts/workflow-ids';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import {
  statusQuery,
  subscriptionCheckSignal,
  subscriptionStateQuery,
} from '../../src/contracts/workflow-messages';
import type { FaxWorkflowResult, SubscriptionWorkflowState } from '../../src/contracts/workflow-types';
import { uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

/**
 * The simulator delivers real webhooks over loopback to our receiver; the SubscriptionWorkflow
 * keeps the subscription alive. Simulated time runs 500x faster: a 1-hour subscription lasts 7.2 s.
 */
let stack: TestStack;

async function subscriptionState(): Promise<SubscriptionWorkflowState> {
  return stack.client.workflow.getHandle(stack.subscriptionWorkflowId!).query(subscriptionStateQuery);
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fax whose polling would wait a minute: only a webhook can finish it within the test. */
async function faxByWebhook(to = '+12025550123'): Promise<{ jobId: string; result: FaxWorkflowResult }> {
  const jobId = uniqueJobId('hook');
  await stack.faxClient.startFax({
    to,
    idempotencyKey: jobId,
    documents: [{ bytes: await makeSamplePdf(1, jobId), filename: 'a.pdf' }],
    policy: { ...FAST_POLICY, pollInitialMs: 60_000, pollMaxMs: 60_000, pollWithWebhooksMs: 60_000 },
  });
  const result = (await stack.client.workflow.getHandle(faxWorkflowId(jobId)).result()) as FaxWorkflowResult;
  return { jobId, result };
}

describe('RingCentral webhooks end to end', () => {
  beforeAll(async () => {
    stack = await startTestStack({
      webhooks: { expiresInSeconds: 3600, renewBeforeMs: 4_000, checkEveryMs: 1_000, coalesceMs: 100 },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('creates a subscription through the handshake and stores its token', async () => {
    const state = await until('an active subscription', async () => {
      const s = await subscriptionState();
      return s.status === 'Active' && s;
    });
    const row = await stack.db
      .selectFrom('ringcentral_subscriptions')
      .selectAll()
      .where('id', '=', state.subscriptionId!)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'Active', address: `${stack.api.url()}/webhooks/ringcentral` });
    expect(row.verification_token.length).toBeGreaterThanOrEqual(32);
  });

  it('delivers a fax status by webhook, long before the next poll', async () => {
    const started = Date.now();
    const { jobId, result } = await faxByWebhook();
    expect(result.status).toBe(OUTCOME.success);
    expect(Date.now() - started).toBeLessThan(30_000);
    const events = await listFaxEvents(stack.db, faxWorkflowId(jobId));
    expect(events.filter((e) => e.source === 'webhook').map((e) => e.status)).toContain(OUTCOME.success);
    expect(events.filter((e) => e.source === 'poll')).toHaveLength(0);
  });

  it('refuses a notification without the verification token', async () => {
    const { subscriptionId } = await subscriptionState();
    const before = await stack.db
      .selectFrom('webhook_notifications')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const res = await fetch(`${stack.api.url()}/webhooks/ringcentral`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'verification-token': 'not-the-token' },
      body: JSON.stringify({
        uuid: 'x',
        event: '/restapi/v1.0/account/1/extension/2/message-store',
        timestamp: new Date().toISOString(),
        subscriptionId,
        body: {},
      }),
    });
    expect(res.status).toBe(401);
    const after = await stack.db
      .selectFrom('webhook_notifications')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(Number(after?.n)).toBe(Number(before?.n));
  });

  it('renews the subscription before it expires', async () => {
    const state = await until('a renewal', async () => {
      const s = await subscriptionState();
      return s.history.some((h) => h.action === 'renewed') && s;
    });
    expect(state.history[0]).toMatchObject({ action: 'created' });
    expect(Date.parse(state.expiresAt!)).toBeGreaterThan(Date.now());
  });
});

describe('a receiver that keeps failing', () => {
  beforeAll(async () => {
    // A week-long subscription (20 minutes here): only the blacklisting can end it during the test.
    stack = await startTestStack({ webhooks: { checkEveryMs: 60_000, coalesceMs: 100 } });
    await until('an active subscription', async () => (await subscriptionState()).status === 'Active');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('replaces a blacklisted subscription and receives webhooks again', async () => {
    const { subscriptionId: old } = await subscriptionState();
    // The receiver goes away: deliveries fail until RingCentral blacklists the subscription
    // (after 2 failures in a row here; RingCentral does not publish its number).
    await stack.setFaults({ webhookBlacklistAfter: 2 });
    await stack.api.stop();
    const jobId = uniqueJobId('dark');
    await stack.faxClient.startFax({
      to: '+12025550177',
      idempotencyKey: jobId,
      documents: [{ bytes: await makeSamplePdf(3, jobId), filename: 'a.pdf' }],
      policy: FAST_POLICY,
    });
    await stack.client.workflow.getHandle(faxWorkflowId(jobId)).result();
    await until('the blacklisting', async () => {
      const subs = (await (await fetch(`${stack.simulator.url}/_sim/subscriptions`)).json()) as
        { subscriptions?: { id: string; status: string }[] } | { id: string; status: string }[];
      const list = Array.isArray(subs) ? subs : (subs.subscriptions ?? []);
      return list.find((s) => s.id === old)?.status === 'Blacklisted';
    });
    await stack.setFaults({});
    await stack.api.start();
    await stack.client.workflow.getHandle(stack.subscriptionWorkflowId!).signal(subscriptionCheckSignal);
    const state = await until('a new subscription', async () => {
      const s = await subscriptionState();
      return s.subscriptionId !== old && s.status === 'Active' && s;
    });
    expect(state.history.at(-1)).toMatchObject({
      action: 'recreated',
      reason: 'the subscription is Blacklisted',
    });
    const oldRow = await stack.db
      .selectFrom('ringcentral_subscriptions')
      .select('status')
      .where('id', '=', old!)
      .executeTakeFirst();
    expect(oldRow?.status).toBe('Blacklisted');
    expect((await faxByWebhook('+12025550178')).result.status).toBe(OUTCOME.success);
  });
});

describe('a subscription that vanishes (issue 8 #9d, #6)', () => {
  beforeAll(async () => {
    // Regular checks are far apart: only a "check now" (what webhook health sends) finds the loss.
    stack = await startTestStack({ webhooks: { checkEveryMs: 600_000, coalesceMs: 100 } });
    await until('an active subscription', async () => (await subscriptionState()).status === 'Active');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps trying through a failed handshake and recreates the subscription', async () => {
    const { subscriptionId: old, credentialKey } = await subscriptionState();
    const rc = createSdkRingCentralClient({
      serverUrl: stack.simulator.url,
      ...stack.simulator.credentials,
      logger: pino({ level: 'silent' }),
    });
    try {
      await rc.deleteSubscription(old!);
    } finally {
      await rc.close();
    }
    // With the receiver down, the recreate's handshake fails: RingCentral answers 400 SUB-525.
    await stack.api.stop();
    const keeper = stack.client.workflow.getHandle(stack.subscriptionWorkflowId!);
    await keeper.signal(subscriptionCheckSignal);
    const failing = await until('a failed check', async () => {
      const s = await subscriptionState();
      return s.lastError !== undefined && s;
    });
    expect(failing.history.at(-1)).toMatchObject({ action: 'failed' });
    expect((await keeper.describe()).status.name).toBe('RUNNING');

    await stack.api.start();
    await keeper.signal(subscriptionCheckSignal);
    const state = await until('a new subscription', async () => {
      const s = await subscriptionState();
      return s.subscriptionId !== old && s.status === 'Active' && s;
    });
    expect(state.lastError).toBeUndefined();
    expect(state.history.map((h) => h.action)).toContain('recreated');
    expect(state.history.find((h) => h.action === 'recreated')?.reason).toBe(
      'RingCentral no longer has the subscription',
    );
    expect((await faxByWebhook('+12025550179')).result.status).toBe(OUTCOME.success);
    await stack.maybeRecordHistory(stack.subscriptionWorkflowId!, 'subscription-vanished-recreated');
    await stack.maybeRecordHistory(reconcileWorkflowId(credentialKey), 'reconcile-webhooks');
  });

  it('wakes a fax waiting for a webhook when its subscription is suspended, and polls it at once', async () => {
    const { subscriptionId: old } = await until('an active subscription', async () => {
      const s = await subscriptionState();
      return s.status === 'Active' && s;
    });
    // RingCentral suspends the subscription: no notification comes, while our rows still say Active.
    const res = await fetch(`${stack.simulator.url}/_sim/subscriptions/${old}/suspend`, { method: 'POST' });
    expect(res.ok).toBe(true);
    const jobId = uniqueJobId('woken');
    const tenMin = 600_000;
    await stack.faxClient.startFax({
      to: '+12025550180',
      idempotencyKey: jobId,
      documents: [{ bytes: await makeSamplePdf(1, jobId), filename: 'a.pdf' }],
      // Every poll but one the wake asks for is ten minutes away.
      policy: {
        ...FAST_POLICY,
        pollInitialMs: tenMin,
        pollMaxMs: tenMin,
        pollWithWebhooksMs: tenMin,
        sentQuietPeriodMs: tenMin,
        killAfterMs: 2 * tenMin,
      },
    });
    const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
    const { messageId } = await until('the fax waiting for its status', async () => {
      const s = await handle.query(statusQuery);
      return s.messageId !== undefined && s.next?.action === 'check status' && s;
    });
    // RingCentral finishes the fax while no notification can announce it: only a poll can tell.
    const rc = createSdkRingCentralClient({
      serverUrl: stack.simulator.url,
      ...stack.simulator.credentials,
      logger: pino({ level: 'silent' }),
    });
    try {
      await until('the fax finished at RingCentral', async () => {
        return (await rc.getMessage(messageId!)).messageStatus === OUTCOME.success;
      });
    } finally {
      await rc.close();
    }
    expect((await handle.query(statusQuery)).status).toBe('Queued');
    // The keeper's check (regular, or asked for by webhook health) finds the suspension.
    const startedWaitingAt = Date.now();
    await stack.client.workflow.getHandle(stack.subscriptionWorkflowId!).signal(subscriptionCheckSignal);
    let timer: NodeJS.Timeout | undefined;
    const notWoken = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the fax was not woken')), 30_000);
    });
    const result = (await Promise.race([handle.result(), notWoken]).finally(() =>
      clearTimeout(timer),
    )) as FaxWorkflowResult;
    expect(result.status).toBe(OUTCOME.success);
    expect(Date.now() - startedWaitingAt).toBeLessThan(30_000);
    const state = await subscriptionState();
    expect(state.history.at(-1)).toMatchObject({
      action: 'recreated',
      reason: 'the subscription is Suspended',
    });
  });
});
