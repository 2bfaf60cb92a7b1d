import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaxMessageIdKey, FaxStatusKey } from '../../src/contracts/search-attributes';
import {
  connectionRestoredSignal,
  deliveryStatusSignal,
  statusQuery,
} from '../../src/contracts/workflow-messages';
import { SLOW_SEND_MS, type FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { maybeRecordHistory, startFaxWorkflow, startTimeSkippingEnv, withFakeWorkers } from './fake-workers';
import { fakeActivities } from './fake-activities';
import { upsertsIn, upsertsOf, type Upsert } from '../support/upserts';

/**
 * `input.quietStatuses` (issue 13 throughput): FaxStatus is upserted only where a status lasts, so a
 * delivered fax costs the Temporal server two visibility writes fewer; the `status` query's
 * timeline still has every status.
 */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const QUIET = { mergedUpserts: true, quietStatuses: true } as const;

/** What each upsert of the run set, in order: FaxStatus's value, or the attributes' names. */
async function upserts(handle: WorkflowHandle): Promise<string[]> {
  return (await upsertsOf(handle)).map((u) => u.status ?? u.names.join());
}

/** The upserts of every run of the workflow, first run first (continue-as-new included). */
async function upsertsOfAllRuns(handle: WorkflowHandle): Promise<Upsert[][]> {
  const runs: Upsert[][] = [];
  let runId: string | undefined = undefined;
  for (;;) {
    const { events } = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    runs.unshift(upsertsIn(events));
    runId = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) return runs;
  }
}

/** The run's history events. */
async function eventsOf(handle: WorkflowHandle) {
  return (await handle.fetchHistory()).events ?? [];
}

/** The run's markers (a patch's marker comes with a TemporalChangeVersion upsert). */
async function markers(handle: WorkflowHandle): Promise<number> {
  return (await eventsOf(handle)).filter((e) => e.markerRecordedEventAttributes).length;
}

describe('FaxWorkflow with quiet statuses', () => {
  it('upserts Queued and the outcome only when the send answers at once and Sent is final', async () => {
    const fake = fakeActivities([[{ status: 'Sent' }]], { sentIsFinal: true });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, QUIET);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Sent', attempts: 1 });
      // Not Sending (the send answered within SLOW_SEND_MS), Sent once although the run set it
      // twice (observed, then final), and no patch marker with its TemporalChangeVersion upsert.
      expect(await upserts(handle)).toEqual(['Queued', 'Sent']);
      expect(await markers(handle)).toBe(0);
      const timeline = (await handle.query(statusQuery)).timeline.map((e) => e.status);
      expect(timeline).toEqual(['Accepted', 'Sending', 'Queued', 'Sent', 'Sent']);
      expect((await handle.describe()).typedSearchAttributes.get(FaxStatusKey)).toBe('Sent');
      await maybeRecordHistory(handle, 'quiet-statuses-sent-final');
    });
  });

  it('shows Sending in FaxStatus while a send is still running after SLOW_SEND_MS', async () => {
    let handle: WorkflowHandle | undefined;
    let seenWhileSending: string | undefined;
    const fake = fakeActivities([[{ status: 'Delivered' }]], {
      async duringSend() {
        // The send is slow: the workflow's timer comes due while it runs.
        await env.sleep(SLOW_SEND_MS + 1_000);
        for (let i = 0; i < 500 && seenWhileSending !== 'Sending'; i++) {
          seenWhileSending = (await handle!.describe()).typedSearchAttributes.get(FaxStatusKey);
          if (seenWhileSending !== 'Sending') await new Promise((r) => setTimeout(r, 20));
        }
      },
    });
    await withFakeWorkers(env, fake, async (tq) => {
      handle = await startFaxWorkflow(env, tq, QUIET);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
      expect(seenWhileSending).toBe('Sending');
      expect(await upserts(handle)).toEqual(['Sending', 'Queued', 'Delivered']);
      await maybeRecordHistory(handle, 'quiet-statuses-slow-send');
    });
  });

  it('upserts each lasting status of a redial, without patch markers', async () => {
    const busy = [{ status: 'DeliveryFailed' as const, faxErrorCode: 'LineBusy' }];
    const fake = fakeActivities([busy, [{ status: 'Delivered' }]]);
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, QUIET);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 2 });
      // The second Queued comes with the second message id, so it is upserted again.
      expect(await upserts(handle)).toEqual(['Queued', 'WaitingToRedial', 'Queued', 'Delivered']);
      expect(await markers(handle)).toBe(0);
      await maybeRecordHistory(handle, 'quiet-statuses-redial');
    });
  });

  it('waits for its connection without a patch marker, and shows the wait', async () => {
    let active = false;
    const fake = fakeActivities([[{ status: 'Delivered' }]], { connectionActive: () => active });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { ...QUIET, connectionId: 'c1', tenantId: 'acme' });
      for (let i = 0; i < 500; i++) {
        if ((await handle.describe()).typedSearchAttributes.get(FaxStatusKey) === 'WaitingForConnection')
          break;
        await new Promise((r) => setTimeout(r, 20));
      }
      active = true;
      await handle.signal(connectionRestoredSignal, { connectionId: 'c1' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
      // Back from the wait the job shows Sending again at once (not a stale WaitingForConnection);
      // the send's own brief Sending then adds nothing.
      expect(await upserts(handle)).toEqual(['WaitingForConnection', 'Sending', 'Queued', 'Delivered']);
      expect(await markers(handle)).toBe(0);
      await maybeRecordHistory(handle, 'quiet-statuses-connection-wait');
    });
  });

  it('upserts every status for a run started without the flag (older clients, the Temporal UI)', async () => {
    const fake = fakeActivities([[{ status: 'Sent' }]], { sentIsFinal: true });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { mergedUpserts: true });
      await handle.result();
      expect(await upserts(handle)).toEqual([
        'Sending',
        'Queued',
        'TemporalChangeVersion',
        'Sent',
        'TemporalChangeVersion',
        'Sent',
      ]);
    });
  });
});

describe('FaxWorkflow with quiet statuses and a quiet Queued', () => {
  const QUIET_QUEUED = { ...QUIET, quietQueued: true } as const;

  /** A run that polls every second and continues as new past 20 events; it must end Delivered. */
  async function deliveredAcrossRuns(taskQueue: string) {
    const handle = await startFaxWorkflow(env, taskQueue, {
      ...QUIET_QUEUED,
      policy: { pollInitialMs: 1_000, pollGrowth: 1, continueAsNewAfterEvents: 20 },
    });
    const result = (await handle.result()) as FaxWorkflowResult;
    expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
    return { handle, runs: await upsertsOfAllRuns(handle) };
  }

  it('upserts only the outcome, with its message id, when the outcome comes within SLOW_SEND_MS', async () => {
    let signalDuringSend: ((messageId: string) => Promise<void>) | undefined;
    const fake = fakeActivities([[{ status: 'Queued' }]], {
      webhooksHealthy: true,
      duringSend: (messageId) => signalDuringSend!(messageId),
    });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, QUIET_QUEUED);
      signalDuringSend = (messageId) =>
        handle.signal(deliveryStatusSignal, { messageId, status: 'Delivered' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
      // One visibility write for the whole fax: Queued lasted no time, so it never went out.
      expect(await upsertsOf(handle)).toEqual([
        { names: ['FaxMessageId', 'FaxStatus'], status: 'Delivered' },
      ]);
      expect(await markers(handle)).toBe(0);
      // The status query still tells the whole story.
      const timeline = (await handle.query(statusQuery)).timeline.map((e) => e.status);
      expect(timeline).toEqual(['Accepted', 'Sending', 'Queued', 'Delivered']);
      expect(fake.polls()).toBe(0);
      await maybeRecordHistory(handle, 'quiet-queued-signal-delivered');
    });
  });

  it('shows Queued and the message id once the message has been queued for SLOW_SEND_MS', async () => {
    // Webhooks look healthy, so the next poll is 10 minutes away; the status comes by that poll.
    const fake = fakeActivities([[{ status: 'Delivered' }]], { webhooksHealthy: true });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, QUIET_QUEUED);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
      expect(await upsertsOf(handle)).toEqual([
        { names: ['FaxMessageId', 'FaxStatus'], status: 'Queued' },
        { names: ['FaxStatus'], status: 'Delivered' },
      ]);
      // The slow-send timer (cancelled), the show timer (fired), the rest of the poll wait (fired).
      expect((await eventsOf(handle)).filter((e) => e.timerStartedEventAttributes)).toHaveLength(3);
      expect(fake.polls()).toBe(1);
      // The poll still came when it was due: 10 minutes after the send (plus the poll's own
      // activities), not 10 minutes after the show, which would be SLOW_SEND_MS later.
      const state = await handle.query(statusQuery);
      const at = (status: string) => Date.parse(state.timeline.find((e) => e.status === status)!.at);
      const queuedFor = at('Delivered') - at('Queued');
      expect(queuedFor).toBeGreaterThanOrEqual(10 * 60_000);
      expect(queuedFor).toBeLessThan(10 * 60_000 + SLOW_SEND_MS);
      await maybeRecordHistory(handle, 'quiet-queued-shown');
    });
  });

  it('shows Queued between polls that answer Queued, and upserts the redial statuses', async () => {
    const busy = [
      { status: 'Queued' as const },
      { status: 'DeliveryFailed' as const, faxErrorCode: 'LineBusy' },
    ];
    const fake = fakeActivities([busy, [{ status: 'Delivered' }]]);
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, QUIET_QUEUED);
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 2 });
      // Each Queued shows with its own message's id (the first poll comes after SLOW_SEND_MS).
      expect(await upsertsOf(handle)).toEqual([
        { names: ['FaxMessageId', 'FaxStatus'], status: 'Queued' },
        { names: ['FaxStatus'], status: 'WaitingToRedial' },
        { names: ['FaxMessageId', 'FaxStatus'], status: 'Queued' },
        { names: ['FaxStatus'], status: 'Delivered' },
      ]);
      await maybeRecordHistory(handle, 'quiet-queued-redial');
    });
  });
  it('upserts only the outcome when the status webhook comes while the show timer runs', async () => {
    const fake = fakeActivities([[{ status: 'Queued' }]], { webhooksHealthy: true });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, QUIET_QUEUED);
      // Time stands still while the test only queries: the show timer has not fired.
      let messageId: string | undefined;
      for (let i = 0; i < 500 && !messageId; i++) {
        const state = await handle.query(statusQuery);
        if (state.status === 'Queued') messageId = state.messageId;
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(messageId).toBeDefined();
      await handle.signal(deliveryStatusSignal, { messageId: messageId!, status: 'Delivered' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
      expect(await upsertsOf(handle)).toEqual([
        { names: ['FaxMessageId', 'FaxStatus'], status: 'Delivered' },
      ]);
      // The slow-send timer and the show timer, both cancelled: no timer more than without the flag.
      const events = await eventsOf(handle);
      expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(2);
      expect(events.filter((e) => e.timerFiredEventAttributes)).toHaveLength(0);
      expect(fake.polls()).toBe(0);
    });
  });

  it('shows a Queued not shown yet before it continues as new, so the successor has its message id', async () => {
    // Polls every second answer Queued; the history grows past the limit before SLOW_SEND_MS.
    const queued = Array.from({ length: 6 }, () => ({ status: 'Queued' as const }));
    const fake = fakeActivities([[...queued, { status: 'Delivered' }]]);
    await withFakeWorkers(env, fake, async (tq) => {
      const { handle, runs } = await deliveredAcrossRuns(tq);
      expect(runs.length).toBeGreaterThan(1);
      expect(runs[0]).toEqual([{ names: ['FaxMessageId', 'FaxStatus'], status: 'Queued' }]);
      const described = (await handle.describe()).typedSearchAttributes;
      expect(described.get(FaxStatusKey)).toBe('Delivered');
      expect(described.get(FaxMessageIdKey)).toBe((await handle.query(statusQuery)).messageId);
      const firstRun = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      await maybeRecordHistory(firstRun, 'quiet-queued-shown-before-continue-as-new');
    });
  });

  it('never shows Queued again after Sent, however often it continues as new', async () => {
    const sent = Array.from({ length: 8 }, () => ({ status: 'Sent' as const }));
    // The first poll (1 s, before SLOW_SEND_MS) already answers Sent: Queued was never shown.
    const fake = fakeActivities([[...sent, { status: 'Delivered' }]], {
      sentIsFinal: false,
    });
    await withFakeWorkers(env, fake, async (tq) => {
      const { handle, runs } = await deliveredAcrossRuns(tq);
      expect(runs.length).toBeGreaterThan(2);
      expect(runs.flat().map((u) => u.status)).toEqual(['Sent', 'Delivered']);
      // The successors follow the message as Sent, not as Queued.
      expect((await handle.query(statusQuery)).timeline.at(-1)?.status).toBe('Delivered');
      // The latest run: it began as Sent and continued from a run that had.
      await maybeRecordHistory(handle, 'quiet-queued-sent-continued');
    });
  });
});
