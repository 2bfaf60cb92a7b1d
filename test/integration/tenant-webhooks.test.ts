import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileWorkflowId, subscriptionWorkflowId } from '../../src/contracts/workflow-ids';
import type { FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

/**
 * Webhooks per connection: a tenant's first job starts its connection's subscription keeper, and
 * the receiver routes that subscription's notifications to the connection's own reconciler.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    simulator: { extraUsers: [{ jwt: 'jwt-globex', name: 'Globex Sender' }] },
    connections: [{ id: 'conn-globex', jwt: 'jwt-globex' }],
    webhooks: { expiresInSeconds: 3600, renewBeforeMs: 4_000, checkEveryMs: 1_000, coalesceMs: 100 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

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

describe("a tenant's connection gets its own subscription and reconciler", () => {
  it("starts the connection's keeper with its first job, and its faxes end by webhook", async () => {
    const send = async () => {
      const key = uniqueJobId('hook');
      const started = await stack.faxClient.startFax({
        to: '+12025550123',
        tenantId: 'globex',
        connectionId: 'conn-globex',
        idempotencyKey: key,
        documents: [{ bytes: await makeSamplePdf(1, key), filename: 'a.pdf' }],
        // Polling would take a minute: only a webhook can end the job within the test.
        policy: { ...FAST_POLICY, pollInitialMs: 60_000, pollMaxMs: 60_000, pollWithWebhooksMs: 60_000 },
      });
      return (await stack.client.workflow.getHandle(started.workflowId).result()) as FaxWorkflowResult;
    };
    // The first job starts the keeper; the subscription may come after its fax was sent.
    const first = send();
    const subscription = await until('the connection’s subscription', async () =>
      stack.db
        .selectFrom('ringcentral_subscriptions')
        .selectAll()
        .where('credential_key', '=', 'conn-globex')
        .where('status', '=', 'Active')
        .executeTakeFirst(),
    );
    expect(subscription.task_queue).toBe(stack.taskQueue);
    expect((await first).status).toBe(OUTCOME.success);
    const second = await send();
    expect(second.status).toBe(OUTCOME.success);

    const keeper = await stack.client.workflow.getHandle(subscriptionWorkflowId('conn-globex')).describe();
    expect(keeper.status.name).toBe('RUNNING');
    const reconciler = await stack.client.workflow.getHandle(reconcileWorkflowId('conn-globex')).describe();
    expect(reconciler.status.name).toBe('RUNNING');
    const webhookEvents = await stack.db
      .selectFrom('fax_events')
      .select('job_id')
      .where('source', '=', 'webhook')
      .where('message_id', '=', second.messageId!)
      .execute();
    expect(webhookEvents.length).toBeGreaterThan(0);
  }, 90_000);
});
