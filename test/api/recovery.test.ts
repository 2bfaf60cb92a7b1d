import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StoredNotification } from '../../src/api/app';
import { recoverUnprocessedNotifications } from '../../src/webhooks/notification-recovery';
import { sql } from 'kysely';
import { startApiServer } from '../../src/api/server';
import { pruneProcessedWebhookNotifications } from '../../src/db/webhook-notifications';
import type { DatabaseHandle } from '../../src/db/connection';
import { testDatabase } from '../support/database';
import { createSubscription, FakeFaxClient, notificationFor, rowsFor, WEBHOOK } from './helpers';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

/** What the receiver does before answering 200; the crash comes right after. */
async function storeUnprocessed(subscriptionId: string, n: number) {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = await database.db
      .insertInto('webhook_notifications')
      .values({
        subscription_id: subscriptionId,
        uuid: `u-${i}`,
        body: JSON.stringify(notificationFor(subscriptionId, { uuid: `u-${i}` })),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(Number(row.id));
  }
  return ids;
}

/** The real callback owner's contract: process, then mark processed_at. */
function markingHandler(received: StoredNotification[]) {
  return async (n: StoredNotification) => {
    received.push(n);
    await database.db
      .updateTable('webhook_notifications')
      .set({ processed_at: new Date() })
      .where('id', '=', n.notificationId)
      .execute();
  };
}

describe('recoverUnprocessedNotifications (a crash between storing and processing)', () => {
  it('re-delivers every unprocessed row, oldest first, and skips processed ones', async () => {
    const sub = await createSubscription(database.db);
    const ids = await storeUnprocessed(sub.id, 5);
    await database.db
      .updateTable('webhook_notifications')
      .set({ processed_at: new Date() })
      .where('id', '=', ids[2]!)
      .execute();

    const received: StoredNotification[] = [];
    const result = await recoverUnprocessedNotifications(database.db, markingHandler(received), {
      batchSize: 2,
    });
    const ours = received.filter((n) => n.subscriptionId === sub.id);
    expect(ours.map((n) => n.notificationId)).toEqual([ids[0], ids[1], ids[3], ids[4]]);
    expect(ours[0]).toEqual({
      notificationId: ids[0],
      subscriptionId: sub.id,
      credentialKey: sub.credentialKey,
      body: expect.objectContaining({ uuid: 'u-0', subscriptionId: sub.id }) as unknown,
    });
    // Whatever else was unprocessed in the shared database came in id order too.
    const all = received.map((n) => n.notificationId);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(result.delivered).toBe(received.length);

    // Once processed, a second start-up has nothing of ours to redo.
    const again: StoredNotification[] = [];
    await recoverUnprocessedNotifications(database.db, markingHandler(again));
    expect(again.filter((n) => n.subscriptionId === sub.id)).toEqual([]);
  });

  it('a failing callback is counted and does not stop the others; its row stays unprocessed', async () => {
    const sub = await createSubscription(database.db);
    const ids = await storeUnprocessed(sub.id, 3);
    const received: number[] = [];
    const result = await recoverUnprocessedNotifications(database.db, async (n) => {
      if (n.notificationId === ids[1]) throw new Error('boom');
      await markingHandler([])(n);
      received.push(n.notificationId);
    });
    expect(received).toEqual(expect.arrayContaining([ids[0], ids[2]]));
    expect(result.failed).toBeGreaterThanOrEqual(1);
    const rows = await rowsFor(database.db, sub.id);
    expect(rows.filter((r) => r.processed_at === null).map((r) => r.id)).toEqual([ids[1]]);
    // clean up for the other tests sharing the database
    await markingHandler([])({
      notificationId: ids[1]!,
      subscriptionId: sub.id,
      credentialKey: '',
      body: {},
    });
  });

  it('leaves rows of subscriptions that vanished from the table alone, and says so', async () => {
    const [orphan] = await storeUnprocessed(`sub-gone-${Date.now()}`, 1);
    const received: StoredNotification[] = [];
    const result = await recoverUnprocessedNotifications(database.db, markingHandler(received), {
      upToId: orphan,
    });
    expect(received.map((n) => n.notificationId)).not.toContain(orphan);
    expect(result.skipped).toBeGreaterThanOrEqual(1);
    await database.db.deleteFrom('webhook_notifications').where('id', '=', orphan!).execute();
  });

  it('honours upToId and an abort signal', async () => {
    const sub = await createSubscription(database.db);
    const ids = await storeUnprocessed(sub.id, 3);
    const received: StoredNotification[] = [];
    await recoverUnprocessedNotifications(database.db, markingHandler(received), { upToId: ids[1] });
    expect(received.filter((n) => n.subscriptionId === sub.id).map((n) => n.notificationId)).toEqual([
      ids[0],
      ids[1],
    ]);
    const abort = new AbortController();
    abort.abort();
    const none = await recoverUnprocessedNotifications(database.db, markingHandler([]), {
      signal: abort.signal,
    });
    expect(none.delivered).toBe(0);
    await recoverUnprocessedNotifications(database.db, markingHandler([]));
  });
});

/** Backdates rows, as if they had been received a minute ago. */
async function receivedAMinuteAgo(ids: number[]) {
  await database.db
    .updateTable('webhook_notifications')
    .set({ received_at: sql<Date>`now() - interval '1 minute'` } as never)
    .where('id', 'in', ids)
    .execute();
}

describe('startApiServer', () => {
  it('listens on a free port, recovers stored rows after listening, serves, and closes', async () => {
    const sub = await createSubscription(database.db);
    const ids = await storeUnprocessed(sub.id, 2);
    // Rows a crashed predecessor left (younger ones wait for a later pass: see below).
    await receivedAMinuteAgo(ids);
    const received: StoredNotification[] = [];
    const server = await startApiServer(
      { db: database.db, faxClient: new FakeFaxClient(), onNotification: markingHandler(received) },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const result = await server.recovery;
      expect(received.filter((n) => n.subscriptionId === sub.id).map((n) => n.notificationId)).toEqual(ids);
      expect(result.delivered).toBeGreaterThanOrEqual(2);

      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });

      // A real RingCentral-style delivery over the wire.
      const res = await fetch(`${server.url}${WEBHOOK}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Verification-Token': sub.token },
        body: JSON.stringify(notificationFor(sub.id)),
      });
      expect(res.status).toBe(200);
      await vi.waitFor(async () => {
        const rows = await rowsFor(database.db, sub.id);
        expect(rows).toHaveLength(3);
        expect(rows.every((r) => r.processed_at !== null)).toBe(true);
      });
      const handshake = await fetch(`${server.url}${WEBHOOK}`, {
        method: 'POST',
        headers: { 'Validation-Token': 'hs-1' },
      });
      expect(handshake.status).toBe(200);
      expect(handshake.headers.get('validation-token')).toBe('hs-1');
    } finally {
      await server.close();
    }
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});

describe('the start-up pass and rows another process holds', () => {
  it('leaves a row received moments ago (another live process may still hold it in its window) to a later pass', async () => {
    // Another API process stores a notification and holds it for its window's signal, covering
    // later changes of the credential with it (notification-processor.ts). Were this process's
    // start-up pass to hand that row on and mark it processed at once, a failure of the other's
    // signal would leave those covered changes with no row to recover them.
    const sub = await createSubscription(database.db);
    const [old, fresh] = await storeUnprocessed(sub.id, 2);
    await receivedAMinuteAgo([old!]);
    const received: StoredNotification[] = [];
    const server = await startApiServer(
      { db: database.db, faxClient: new FakeFaxClient(), onNotification: markingHandler(received) },
      { host: '127.0.0.1', port: 0, sweeper: { intervalMs: 60_000 } },
    );
    try {
      await server.recovery;
      expect(received.filter((n) => n.subscriptionId === sub.id).map((n) => n.notificationId)).toEqual([old]);
      const rows = await rowsFor(database.db, sub.id);
      expect(rows.find((r) => Number(r.id) === fresh)?.processed_at).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('the sweep of unprocessed notifications (issue 8 #13, #15)', () => {
  it('hands a notification on again after a failed hand-off, without a restart', async () => {
    const sub = await createSubscription(database.db);
    const received: StoredNotification[] = [];
    let failures = 0;
    const server = await startApiServer(
      {
        db: database.db,
        faxClient: new FakeFaxClient(),
        onNotification: async (n) => {
          if (n.subscriptionId === sub.id && failures++ === 0) throw new Error('Temporal is down');
          await markingHandler(received)(n);
        },
      },
      { host: '127.0.0.1', port: 0, sweeper: { intervalMs: 20, graceMs: 0 } },
    );
    try {
      await server.recovery;
      const res = await fetch(`${server.url}${WEBHOOK}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Verification-Token': sub.token },
        body: JSON.stringify(notificationFor(sub.id)),
      });
      expect(res.status).toBe(200);
      await vi.waitFor(
        async () => {
          const rows = await rowsFor(database.db, sub.id);
          expect(rows).toHaveLength(1);
          expect(rows[0]!.processed_at).not.toBeNull();
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(failures).toBeGreaterThanOrEqual(2);
      expect(received.filter((n) => n.subscriptionId === sub.id)).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('prunes processed rows past their retention and keeps unprocessed and recent ones', async () => {
    const sub = await createSubscription(database.db);
    const ids = await storeUnprocessed(sub.id, 3);
    const age = (days: number) => sql<Date>`now() - make_interval(days => ${days})`;
    // ids[0]: processed 8 days ago; ids[1]: unprocessed from 8 days ago; ids[2]: processed today.
    await database.db
      .updateTable('webhook_notifications')
      .set({ received_at: age(8), processed_at: age(8) } as never)
      .where('id', '=', ids[0]!)
      .execute();
    await database.db
      .updateTable('webhook_notifications')
      .set({ received_at: age(8) } as never)
      .where('id', '=', ids[1]!)
      .execute();
    await database.db
      .updateTable('webhook_notifications')
      .set({ processed_at: new Date() })
      .where('id', '=', ids[2]!)
      .execute();
    expect(await pruneProcessedWebhookNotifications(database.db, 7)).toBeGreaterThanOrEqual(1);
    expect((await rowsFor(database.db, sub.id)).map((r) => r.id)).toEqual([ids[1], ids[2]]);
    await markingHandler([])({
      notificationId: ids[1]!,
      subscriptionId: sub.id,
      credentialKey: '',
      body: {},
    });
  });
});
