import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaxStatusKey } from '../../src/contracts/search-attributes';
import { cancelUpdate, connectionRestoredSignal, statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { HISTORIES_DIR } from '../support/test-stack';
import { startFaxWorkflow, withFakeWorkers, startTimeSkippingEnv } from './fake-workers';
import { fakeActivities } from './fake-activities';

/**
 * A job whose RingCentral connection needs reconnecting waits durably (`WaitingForConnection`) and
 * continues where it was once the connection is back: by a signal, or by its periodic re-check.
 */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function maybeRecordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.FAXFLOW_RECORD_HISTORIES !== '1') return;
  await writeFile(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}

/** Queries (which do not skip time) until the job shows `status`. */
async function statusReached(handle: WorkflowHandle, status: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await handle.query(statusQuery)).status === status) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the job never reached ${status}`);
}

describe('FaxWorkflow waits for its RingCentral connection (time-skipping)', () => {
  it('waits before the send, shows WaitingForConnection, and sends once signalled', async () => {
    let active = false;
    const fake = fakeActivities([[{ status: 'Delivered' }]], { connectionActive: () => active });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { connectionId: 'c1', tenantId: 'acme' });
      await statusReached(handle, 'WaitingForConnection');
      // The status is set before the wait records it (an activity); `next` once the wait begins.
      let waiting = await handle.query(statusQuery);
      for (let i = 0; i < 500 && !waiting.next; i++) {
        await new Promise((r) => setTimeout(r, 20));
        waiting = await handle.query(statusQuery);
      }
      expect(waiting.next?.action).toBe('check the RingCentral connection');
      expect(waiting.timeline.at(-1)?.note).toBe('RingCentral refused the refresh token');
      expect((await handle.describe()).typedSearchAttributes.get(FaxStatusKey)).toBe('WaitingForConnection');
      expect(fake.recorded).toContainEqual({
        status: 'WaitingForConnection',
        errorCode: 'CONNECTION_UNAVAILABLE',
      });
      expect(fake.sends).toHaveLength(0);

      active = true;
      await handle.signal(connectionRestoredSignal, { connectionId: 'c1' });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Delivered', attempts: 1 });
      // The same attempt is sent once the connection is back: nothing was sent while it waited.
      expect(fake.sends.map((s) => s.attemptNo)).toEqual([1]);
      expect(fake.connectionChecks).toEqual([]);
      const statuses = (await handle.query(statusQuery)).timeline.map((e) => e.status);
      expect(statuses).toEqual([
        'Accepted',
        'Sending',
        'WaitingForConnection',
        'Sending',
        'Sending',
        'Queued',
        'Delivered',
      ]);
      await maybeRecordHistory(handle, 'waiting-for-connection-restored');
    });
  });

  it('notices a reconnection by its periodic check when no signal comes', async () => {
    let active = false;
    const fake = fakeActivities([[{ status: 'Delivered' }]], { connectionActive: () => active });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, {
        connectionId: 'c1',
        policy: { connectionRecheckMs: 5 * MINUTE },
      });
      await statusReached(handle, 'WaitingForConnection');
      active = true;
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.connectionChecks).toEqual(['c1']);
      const timeline = (await handle.query(statusQuery)).timeline;
      const waited =
        Date.parse(timeline.find((e) => e.note === 'the RingCentral connection is back')!.at) -
        Date.parse(timeline.find((e) => e.status === 'WaitingForConnection')!.at);
      expect(waited).toBeGreaterThanOrEqual(5 * MINUTE);
      expect(waited).toBeLessThan(6 * MINUTE);
    });
  });

  it('ends Expired at the kill time when the tenant never reconnects', async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]], { connectionActive: () => false });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, {
        connectionId: 'c1',
        policy: { killAfterMs: 2 * HOUR },
      });
      const result = (await handle.result()) as FaxWorkflowResult;
      expect(result).toMatchObject({ status: 'Expired', errorCode: 'EXPIRED' });
      expect(result.errorMessage).toContain('not reconnected before the kill time');
      expect(fake.sends).toHaveLength(0);
      // Every 5 minutes for 2 hours, less the last one the kill time cuts short.
      expect(fake.connectionChecks.length).toBeGreaterThanOrEqual(22);
      expect(fake.connectionChecks.length).toBeLessThanOrEqual(24);
    });
  });

  it('can be cancelled while it waits before the send', async () => {
    const fake = fakeActivities([[{ status: 'Delivered' }]], { connectionActive: () => false });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { connectionId: 'c1' });
      await statusReached(handle, 'WaitingForConnection');
      expect(await handle.executeUpdate(cancelUpdate)).toEqual({ canceled: true });
      expect(((await handle.result()) as FaxWorkflowResult).status).toBe('Canceled');
      expect(fake.sends).toHaveLength(0);
    });
  });

  it('waits while following a sent fax, then reads its status again', async () => {
    let active = true;
    const fake = fakeActivities([[{ status: 'Queued' }, { status: 'Delivered' }]], {
      connectionActive: () => active,
      duringSend: async () => {
        active = false;
      },
    });
    await withFakeWorkers(env, fake, async (tq) => {
      const handle = await startFaxWorkflow(env, tq, { connectionId: 'c1' });
      await statusReached(handle, 'Queued');
      const waitingResult = handle.result();
      await statusReached(handle, 'WaitingForConnection').catch(() => undefined);
      active = true;
      await handle.signal(connectionRestoredSignal, { connectionId: 'c1' });
      const result = (await waitingResult) as FaxWorkflowResult;
      expect(result.status).toBe('Delivered');
      expect(fake.sends).toHaveLength(1);
      const statuses = (await handle.query(statusQuery)).timeline.map((e) => e.status);
      expect(statuses).toContain('WaitingForConnection');
      expect(statuses.slice(statuses.indexOf('WaitingForConnection') + 1)[0]).toBe('Queued');
      await maybeRecordHistory(handle, 'waiting-for-connection-while-following');
    });
  });
});
