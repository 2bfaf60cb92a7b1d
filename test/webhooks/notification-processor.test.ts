import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { createNotificationProcessor } from '../../src/webhooks/notification-processor';
import { testDatabase, uniqueJobId } from '../support/database';
import { signalRecordingClient } from '../support/signal-recorder';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

async function store(subscriptionId: string, newIds: number[]): Promise<number> {
  const body = {
    uuid: uniqueJobId('n'),
    body: { changes: [{ type: 'Fax', newCount: newIds.length, newMessageIds: newIds }] },
  };
  const row = await database.db
    .insertInto('webhook_notifications')
    .values({ subscription_id: subscriptionId, uuid: body.uuid, body: JSON.stringify(body) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

describe('notification processor', () => {
  it('signals the first of a burst at once and the rest in one more signal when the window closes, then marks them processed', async () => {
    const { client, calls } = signalRecordingClient();
    const process = createNotificationProcessor({ db: database.db, client, taskQueue: 'q', batchMs: 200 });
    const sub = uniqueJobId('sub');
    const ids = await Promise.all([store(sub, [1]), store(sub, [2, 3]), store(sub, [])]);
    const bodies = [[1], [2, 3], []].map((newMessageIds) => ({ body: { changes: [{ newMessageIds }] } }));
    const handled = ids.map((id, i) =>
      process({ notificationId: id, subscriptionId: sub, credentialKey: 'cred-a', body: bodies[i]! }),
    );
    await handled[0];
    // The first needs no window: it went out before the others' window closed.
    expect(calls).toEqual([
      { workflowId: 'ringcentral-reconcile-cred-a', signalArgs: [{ newMessageIds: ['1'] }] },
    ]);
    await Promise.all(handled);
    expect(calls).toEqual([
      { workflowId: 'ringcentral-reconcile-cred-a', signalArgs: [{ newMessageIds: ['1'] }] },
      { workflowId: 'ringcentral-reconcile-cred-a', signalArgs: [{ newMessageIds: ['2', '3'] }] },
    ]);
    const rows = await database.db
      .selectFrom('webhook_notifications')
      .select('processed_at')
      .where('id', 'in', ids)
      .execute();
    expect(rows.every((r) => r.processed_at instanceof Date)).toBe(true);
  });

  it('sends one signal per window under a steady stream, however many notifications arrive', async () => {
    const { client, calls } = signalRecordingClient();
    const process = createNotificationProcessor({ db: database.db, client, taskQueue: 'q', batchMs: 100 });
    const sub = uniqueJobId('sub');
    const handled: Promise<void>[] = [];
    // 30 notifications, one every 10 ms: 300 ms of stream, windows of 100 ms.
    for (let i = 0; i < 30; i++) {
      const id = await store(sub, [i]);
      handled.push(
        process({
          notificationId: id,
          subscriptionId: sub,
          credentialKey: 'cred-stream',
          body: { body: { changes: [{ newMessageIds: [i] }] } },
        }),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(handled);
    // Every id reached the reconciler exactly once, in at most one signal per window (plus the first).
    const signalled = calls.flatMap((c) => (c.signalArgs[0] as { newMessageIds: string[] }).newMessageIds);
    expect(signalled.sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 30 }, (_, i) => String(i)),
    );
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.length).toBeLessThanOrEqual(6);
  });

  it('covers a change that announces no new message while a stored one waits for its window', async () => {
    const { client, calls } = signalRecordingClient();
    const process = createNotificationProcessor({ db: database.db, client, taskQueue: 'q', batchMs: 1_000 });
    const sub = uniqueJobId('sub');
    const credentialKey = uniqueJobId('cred');
    const updated = { body: { changes: [{ type: 'Fax', updatedCount: 1 }] } };
    const announced = { body: { changes: [{ type: 'Fax', newCount: 1, newMessageIds: [5] }] } };
    // Nothing waits yet: a change must be stored and signalled on its own.
    expect(process.absorb({ credentialKey, body: updated })).toBe(false);
    const first = await store(sub, [4]);
    await process({ notificationId: first, subscriptionId: sub, credentialKey, body: announced });
    // The first went out at once: there is no stored notification waiting, so nothing is covered.
    expect(process.absorb({ credentialKey, body: updated })).toBe(false);
    const second = await store(sub, []);
    const waiting = process({ notificationId: second, subscriptionId: sub, credentialKey, body: updated });
    // The second waits for the window: a change reported now reaches the reconciler with its signal.
    expect(process.absorb({ credentialKey, body: updated })).toBe(true);
    expect(
      process.absorb({ credentialKey, body: { body: { changes: [{ type: 'Fax', updatedCount: 2 }] } } }),
    ).toBe(true);
    // Not a notification that names new messages (their ids go to the reconciler), nor one whose shape
    // is unknown, nor another credential's.
    expect(process.absorb({ credentialKey, body: announced })).toBe(false);
    expect(
      process.absorb({ credentialKey, body: { body: { changes: [{ type: 'Fax', newCount: 1 }] } } }),
    ).toBe(false);
    expect(process.absorb({ credentialKey, body: { body: {} } })).toBe(false);
    expect(process.absorb({ credentialKey: `${credentialKey}-other`, body: updated })).toBe(false);
    expect(calls).toHaveLength(1);
    await waiting;
    // Its signal went out after the covered changes, and the stored row is processed.
    expect(calls).toHaveLength(2);
    const row = await database.db
      .selectFrom('webhook_notifications')
      .select('processed_at')
      .where('id', '=', second)
      .executeTakeFirstOrThrow();
    expect(row.processed_at).toBeInstanceOf(Date);
    // Once that signal has gone, nothing waits: the next change is stored again.
    expect(process.absorb({ credentialKey, body: updated })).toBe(false);
  });

  it('leaves the rows unprocessed when Temporal does not take the signal', async () => {
    const { client } = signalRecordingClient(true);
    const process = createNotificationProcessor({ db: database.db, client, taskQueue: 'q', batchMs: 10 });
    const sub = uniqueJobId('sub');
    const id = await store(sub, [9]);
    await expect(
      process({ notificationId: id, subscriptionId: sub, credentialKey: 'cred-b', body: {} }),
    ).rejects.toThrow('Temporal is down');
    const row = await database.db
      .selectFrom('webhook_notifications')
      .select('processed_at')
      .where('id', '=', id)
      .executeTakeFirst();
    expect(row?.processed_at).toBeNull();
  });

  it('routes each credential to the task queue its subscription recorded (issue 8 #5)', async () => {
    const queues: string[] = [];
    const client = {
      workflow: {
        signalWithStart: async (_type: string, opts: { taskQueue: string }) => {
          queues.push(opts.taskQueue);
        },
      },
    } as unknown as Client;
    const process = createNotificationProcessor({
      db: database.db,
      client,
      taskQueue: 'api-own',
      batchMs: 1,
    });
    const sub = uniqueJobId('sub');
    const id = await store(sub, [7]);
    await process({
      notificationId: id,
      subscriptionId: sub,
      credentialKey: 'cred-c',
      taskQueue: 'fleet-c',
      body: {},
    });
    expect(queues).toEqual(['fleet-c']);
  });
});
