import { sql } from 'kysely';
import type { Db } from './schema';

/**
 * Stores a notification; `undefined` when the same subscription already delivered this uuid
 * (RingCentral redelivers), so a redelivery is acknowledged and processed once.
 */
export async function insertWebhookNotification(
  db: Db,
  n: { subscriptionId: string; uuid: string; body: unknown },
): Promise<number | undefined> {
  const row = await db
    .insertInto('webhook_notifications')
    .values({ subscription_id: n.subscriptionId, uuid: n.uuid, body: JSON.stringify(n.body) })
    .onConflict((oc) => oc.columns(['subscription_id', 'uuid']).where('uuid', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/** At most this many notifications go into one statement. */
const GROUP_MAX = 100;

/** A statement Postgres refused for what it held (SQLSTATE class 22 data, 23 integrity, 54 limits). */
function refusedData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/**
 * `insertWebhookNotification` with group commit (issue 13): the notifications handed to it in the
 * same turn of the event loop are stored by one multi-row statement, and each caller's promise
 * settles only once that statement has committed, so every request still answers 200 only after
 * its notification is stored. Same answers as one insert each: the row id, or `undefined` for a
 * redelivery (of a stored row, or of an earlier notification in the same group). Should Postgres
 * refuse the group for what it holds, each notification is tried alone, so one that cannot be
 * stored fails only its own request.
 */
export function createNotificationWriter(db: Db) {
  type Entry = {
    n: { subscriptionId: string; uuid: string; body: unknown };
    resolve: (id: number | undefined) => void;
    reject: (err: unknown) => void;
  };
  let pending: Entry[] = [];

  async function flush(group: Entry[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group;
      await insertWebhookNotification(db, only!.n).then(only!.resolve, only!.reject);
      return;
    }
    const key = (n: Entry['n']) => `${n.subscriptionId}\n${n.uuid}`;
    const firsts = new Map<string, Entry>();
    for (const e of group) if (!firsts.has(key(e.n))) firsts.set(key(e.n), e);
    let ids: Map<string, number>;
    try {
      const rows = await db
        .insertInto('webhook_notifications')
        .values(
          [...firsts.values()].map(({ n }) => ({
            subscription_id: n.subscriptionId,
            uuid: n.uuid,
            body: JSON.stringify(n.body),
          })),
        )
        .onConflict((oc) => oc.columns(['subscription_id', 'uuid']).where('uuid', 'is not', null).doNothing())
        .returning(['id', 'subscription_id', 'uuid'])
        .execute();
      ids = new Map(rows.map((r) => [`${r.subscription_id}\n${r.uuid}`, Number(r.id)]));
    } catch (err) {
      // Rolled back as a whole. A notification Postgres refused (a data or integrity error) must
      // fail only its own request: each is tried on its own. Anything else (the database is down)
      // fails the group, as it would have failed each of them.
      if (!refusedData(err)) throw err;
      await Promise.all(group.map((e) => insertWebhookNotification(db, e.n).then(e.resolve, e.reject)));
      return;
    }
    // In arrival order; a later copy of a notification in the same group is its redelivery.
    for (const e of group) e.resolve(firsts.get(key(e.n)) === e ? ids.get(key(e.n)) : undefined);
  }

  return function storeNotification(n: Entry['n']): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      if (pending.length === 0) {
        setImmediate(() => {
          const groups: Entry[][] = [];
          for (let i = 0; i < pending.length; i += GROUP_MAX) groups.push(pending.slice(i, i + GROUP_MAX));
          pending = [];
          for (const group of groups) {
            flush(group).catch((err: unknown) => {
              for (const e of group) e.reject(err);
            });
          }
        });
      }
      pending.push({ n, resolve, reject });
    });
  };
}

/** The highest notification id stored so far (0 when there is none). */
export async function lastWebhookNotificationId(db: Db): Promise<number> {
  const row = await db
    .selectFrom('webhook_notifications')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return row?.max == null ? 0 : Number(row.max);
}

/**
 * Unprocessed notifications after `afterId` (and up to `upToId`), oldest first, with their
 * subscription's credential (`null` when the subscription row no longer exists).
 */
export async function listUnprocessedWebhookNotifications(
  db: Db,
  page: {
    afterId: number;
    upToId?: number;
    limit: number;
    /** Only rows received at least this long ago (by the database's clock): younger ones are in hand. */
    receivedBeforeMs?: number;
  },
) {
  let query = db
    .selectFrom('webhook_notifications as n')
    .leftJoin('ringcentral_subscriptions as s', 's.id', 'n.subscription_id')
    .select(['n.id', 'n.subscription_id', 'n.body', 's.credential_key', 's.task_queue'])
    .where('n.processed_at', 'is', null)
    .where('n.id', '>', page.afterId)
    .orderBy('n.id')
    .limit(page.limit);
  if (page.upToId !== undefined) query = query.where('n.id', '<=', page.upToId);
  if (page.receivedBeforeMs !== undefined) {
    query = query.where(
      'n.received_at',
      '<',
      sql<Date>`now() - make_interval(secs => ${page.receivedBeforeMs / 1000})`,
    );
  }
  return query.execute();
}

export async function markWebhookNotificationsProcessed(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_notifications')
    .set({ processed_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .execute();
}

/**
 * Retention: deletes processed notifications received more than `olderThanDays` days ago, at most
 * `limit` rows per call (a short transaction each); returns how many went. Unprocessed rows stay.
 */
export async function pruneProcessedWebhookNotifications(
  db: Db,
  olderThanDays: number,
  limit = 10_000,
): Promise<number> {
  const result = await db
    .deleteFrom('webhook_notifications')
    .where(
      'id',
      'in',
      db
        .selectFrom('webhook_notifications')
        .select('id')
        .where('processed_at', 'is not', null)
        .where('received_at', '<', sql<Date>`now() - make_interval(days => ${olderThanDays})`)
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
