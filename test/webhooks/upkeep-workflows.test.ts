import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { FaxActivities } from '../../src/activities';
import type { EnsureSubscriptionArgs } from '../../src/activities/ensure-subscription';
import type { ReconcileFaxStatusesArgs } from '../../src/activities/reconcile-fax-statuses';
import { reconcileWorkflowId, subscriptionWorkflowId } from '../../src/contracts/workflow-ids';
import { faxesChangedSignal, subscriptionStateQuery } from '../../src/contracts/workflow-messages';
import { ensureSubscriptionWorkflow } from '../../src/webhooks/subscription-keeper';
import { resolveTestServer } from '../../src/stack/temporal-binary';
import { installTemporalRuntime } from '../../src/workers/runtime';
import { fakeActivities } from '../workflows/fake-activities';

/** SubscriptionWorkflow and ReconcileWorkflow on the time-skipping test server, with fake activities. */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  installTemporalRuntime('WARN');
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: resolveTestServer(process.env.TEMPORAL_TEST_SERVER_PATH) },
  });
});
afterAll(async () => {
  await env?.teardown();
});

async function withWorker<T>(
  overrides: Partial<FaxActivities>,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `tq-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code: inject('workflowCode') },
    activities: { ...fakeActivities([]).activities, ...overrides },
  });
  return worker.runUntil(fn(taskQueue));
}

/** Lets workflow time pass on the test server until `check` holds. */
async function until(check: () => void | Promise<void>): Promise<void> {
  await vi.waitFor(
    async () => {
      await env.sleep(5_000);
      await check();
    },
    { timeout: 20_000, interval: 10 },
  );
}

describe('SubscriptionWorkflow', () => {
  it('backs off and keeps trying after a 4xx, with the reason in its state (issue 8 #6)', async () => {
    const calls: EnsureSubscriptionArgs[] = [];
    const ensureSubscription = async (args: EnsureSubscriptionArgs) => {
      calls.push(args);
      if (calls.length <= 2) {
        throw ApplicationFailure.create({
          type: 'RingCentralRejected',
          message: 'HTTP 400 SUB-525: the webhook handshake failed',
          nonRetryable: true,
        });
      }
      return {
        subscriptionId: 'sub-1',
        status: 'Active',
        expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
        action: 'created' as const,
      };
    };
    await withWorker({ ensureSubscription }, async (taskQueue) => {
      const handle = await env.client.workflow.start('SubscriptionWorkflow', {
        taskQueue,
        workflowId: `sub-${randomUUID()}`,
        args: [{ credentialKey: 'cred-x', address: 'https://faxflow.example/webhooks/ringcentral' }],
      });
      await until(async () => {
        const state = await handle.query(subscriptionStateQuery);
        expect(state.lastError).toContain('SUB-525');
        expect(state.failures).toBe(1);
      });
      await until(async () => {
        const state = await handle.query(subscriptionStateQuery);
        expect(state.subscriptionId).toBe('sub-1');
        expect(state.lastError).toBeUndefined();
        expect(state.history.map((h) => h.action)).toEqual(['failed', 'failed', 'created']);
      });
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(calls.every((c) => c.credentialKey === 'cred-x')).toBe(true);
      await handle.terminate('test done');
    });
  });
});

describe('ReconcileWorkflow', () => {
  it('drops an id after its follow-up rounds, even across continue-as-new (issue 8 #11)', async () => {
    const calls: ReconcileFaxStatusesArgs[] = [];
    // Nothing ever matches: every announced id stays unmatched.
    const reconcileFaxStatuses = async (args: ReconcileFaxStatusesArgs) => {
      calls.push(args);
      return { pending: 0, listed: 0, signalled: 0, unmatchedNewIds: args.newMessageIds ?? [] };
    };
    await withWorker({ reconcileFaxStatuses }, async (taskQueue) => {
      const workflowId = `rec-${randomUUID()}`;
      const start = (ids: string[]) =>
        env.client.workflow.signalWithStart('ReconcileWorkflow', {
          taskQueue,
          workflowId,
          args: [{ credentialKey: 'cred-y', coalesceMs: 1_000, roundsPerRun: 2 }],
          signal: faxesChangedSignal,
          signalArgs: [{ newMessageIds: ids }],
        });
      const withId = (id: string) => calls.filter((c) => c.newMessageIds?.includes(id)).length;
      await start(['x']);
      // The first look plus three follow-ups; the run continues as new every two rounds.
      await until(() => expect(withId('x')).toBeGreaterThanOrEqual(4));
      await start(['y']);
      await until(() => expect(withId('y')).toBeGreaterThanOrEqual(4));
      expect(withId('x')).toBe(4);
      expect(calls.every((c) => c.credentialKey === 'cred-y')).toBe(true);
      await env.client.workflow.getHandle(workflowId).terminate('test done');
    });
  });

  it('keeps running, and keeps the ids, while its connection needs reconnecting (issue 11)', async () => {
    const calls: ReconcileFaxStatusesArgs[] = [];
    let connected = false;
    const reconcileFaxStatuses = async (args: ReconcileFaxStatusesArgs) => {
      calls.push(args);
      if (!connected) {
        throw ApplicationFailure.create({
          type: 'ConnectionUnavailable',
          message: 'RingCentral connection conn-b is needs-reconnect: OAU-211',
          nonRetryable: true,
          details: [{ connectionId: 'conn-b', status: 'needs-reconnect', reason: 'OAU-211' }],
        });
      }
      return { pending: 1, listed: 1, signalled: 1, unmatchedNewIds: [] };
    };
    await withWorker({ reconcileFaxStatuses }, async (taskQueue) => {
      const workflowId = `rec-${randomUUID()}`;
      const signal = (ids: string[]) =>
        env.client.workflow.signalWithStart('ReconcileWorkflow', {
          taskQueue,
          workflowId,
          args: [{ credentialKey: 'conn-b', coalesceMs: 1_000 }],
          signal: faxesChangedSignal,
          signalArgs: [{ newMessageIds: ids }],
        });
      await signal(['a']);
      await until(() => expect(calls).toHaveLength(1));
      expect((await env.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
      connected = true;
      await signal(['b']);
      await until(() => expect(calls).toHaveLength(2));
      expect(calls[1]!.newMessageIds?.sort()).toEqual(['a', 'b']);
      await env.client.workflow.getHandle(workflowId).terminate('test done');
    });
  });

  it('does not give an id carried through continue-as-new fresh rounds (issue 8 #11)', async () => {
    const calls: ReconcileFaxStatusesArgs[] = [];
    const reconcileFaxStatuses = async (args: ReconcileFaxStatusesArgs) => {
      calls.push(args);
      return { pending: 0, listed: 0, signalled: 0, unmatchedNewIds: args.newMessageIds ?? [] };
    };
    await withWorker({ reconcileFaxStatuses }, async (taskQueue) => {
      const workflowId = `rec-${randomUUID()}`;
      // What a run hands on after 'old' had all three follow-ups: one last look, then no more.
      await env.client.workflow.start('ReconcileWorkflow', {
        taskQueue,
        workflowId,
        args: [{ credentialKey: 'cred-z', coalesceMs: 1_000, pendingIds: ['old'], followUps: { old: 3 } }],
      });
      await until(() => expect(calls.length).toBeGreaterThanOrEqual(1));
      await env.client.workflow.signalWithStart('ReconcileWorkflow', {
        taskQueue,
        workflowId,
        args: [{ credentialKey: 'cred-z' }],
        signal: faxesChangedSignal,
        signalArgs: [{ newMessageIds: ['new'] }],
      });
      await until(() => expect(calls.filter((c) => c.newMessageIds?.includes('new')).length).toBe(4));
      expect(calls.filter((c) => c.newMessageIds?.includes('old')).length).toBe(1);
      await env.client.workflow.getHandle(workflowId).terminate('test done');
    });
  });
});

describe('ensureSubscriptionWorkflow', () => {
  // Started by the first notification instead, the reconciler's first workflow task queued behind
  // those of a whole burst of new FaxWorkflows, and every fax was settled by polling first (issue 9,
  // webhook-chaos under delivery-reports on a loaded machine).
  it("starts the credential's ReconcileWorkflow, idle, before any notification needs it", async () => {
    const reconciles: ReconcileFaxStatusesArgs[] = [];
    const reconcileFaxStatuses = async (args: ReconcileFaxStatusesArgs) => {
      reconciles.push(args);
      return { pending: 0, listed: 0, signalled: 0, unmatchedNewIds: [] };
    };
    const ensureSubscription = async () => ({
      subscriptionId: 'sub-r',
      status: 'Active',
      expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
      action: 'created' as const,
    });
    await withWorker({ ensureSubscription, reconcileFaxStatuses }, async (taskQueue) => {
      const credentialKey = `cred-${randomUUID()}`;
      const input = { credentialKey, address: 'https://faxflow.example/webhooks/ringcentral' };
      await ensureSubscriptionWorkflow(env.client, taskQueue, input, { coalesceMs: 200 });
      const reconciler = env.client.workflow.getHandle(reconcileWorkflowId(credentialKey));
      const started = await reconciler.describe();
      expect(started.status.name).toBe('RUNNING');
      expect(started.taskQueue).toBe(taskQueue);
      // Idle until told: nothing is listed without a notification.
      await env.sleep(60_000);
      expect(reconciles).toEqual([]);

      // A restart of the API keeps the same reconciler, and the notification processor's
      // signal-with-start reaches that run, which reconciles once.
      await ensureSubscriptionWorkflow(env.client, taskQueue, input, { coalesceMs: 200 });
      await env.client.workflow.signalWithStart('ReconcileWorkflow', {
        taskQueue,
        workflowId: reconcileWorkflowId(credentialKey),
        args: [{ credentialKey }],
        signal: faxesChangedSignal,
        signalArgs: [{ newMessageIds: ['m-1'] }],
      });
      await until(() => expect(reconciles).toEqual([{ credentialKey, newMessageIds: ['m-1'] }]));
      expect((await reconciler.describe()).runId).toBe(started.runId);
      await reconciler.terminate('test done');
      await env.client.workflow.getHandle(subscriptionWorkflowId(credentialKey)).terminate('test done');
    });
  });
});
