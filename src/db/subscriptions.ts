import { sql } from 'kysely';
import type { Db } from './schema';

export interface SubscriptionRecord {
  id: string;
  credentialKey: string;
  verificationToken: string;
  address: string;
  status: string;
  expiresAt: Date;
  /** The task queue of the fleet that holds this credential. */
  taskQueue?: string;
}

export async function upsertSubscription(db: Db, s: SubscriptionRecord): Promise<void> {
  const now = new Date();
  await db
    .insertInto('ringcentral_subscriptions')
    .values({
      id: s.id,
      credential_key: s.credentialKey,
      verification_token: s.verificationToken,
      address: s.address,
      status: s.status,
      expires_at: s.expiresAt,
      task_queue: s.taskQueue ?? null,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ status: s.status, expires_at: s.expiresAt, address: s.address, updated_at: now }),
    )
    .execute();
}

export async function markSubscriptionStatus(db: Db, id: string, status: string): Promise<void> {
  await db
    .updateTable('ringcentral_subscriptions')
    .set({ status, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/** A renewal or a fresh look at RingCentral's copy: the token and address stay as they are. */
export async function updateSubscriptionExpiry(
  db: Db,
  id: string,
  change: { status: string; expiresAt: Date; taskQueue?: string },
): Promise<void> {
  await db
    .updateTable('ringcentral_subscriptions')
    .set({
      status: change.status,
      expires_at: change.expiresAt,
      updated_at: new Date(),
      ...(change.taskQueue !== undefined && { task_queue: change.taskQueue }),
    })
    .where('id', '=', id)
    .execute();
}

/** The receiver address a subscription was created for, whatever its status. */
export async function findSubscriptionAddress(db: Db, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ringcentral_subscriptions')
    .select(['address'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.address;
}

/**
 * Of these RingCentral subscription ids, the ones a row of ours still stands for (any credential's:
 * fleets may share the database); not those we deleted or replaced after a blacklisting.
 */
export async function ownedSubscriptionIds(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('ringcentral_subscriptions')
    .select('id')
    .where('id', 'in', ids)
    .where('status', 'not in', ['Deleted', 'Blacklisted'])
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** The subscription a notification names, if we created it and have not deleted it. */
export async function findSubscription(db: Db, id: string) {
  return db
    .selectFrom('ringcentral_subscriptions')
    .selectAll()
    .where('id', '=', id)
    .where('status', '!=', 'Deleted')
    .executeTakeFirst();
}

/** Status of a row stored before RingCentral was asked to create the subscription. */
export const PENDING = 'Pending';

/**
 * Stores a subscription's token before RingCentral is asked to create it, under a placeholder id:
 * a notification that arrives before the create call returns is then authenticated by its token
 * (see `adoptPendingSubscription`), and a crash leaves a row that still authenticates the orphan.
 */
export async function insertPendingSubscription(
  db: Db,
  s: Omit<SubscriptionRecord, 'status'>,
): Promise<void> {
  await upsertSubscription(db, { ...s, status: PENDING });
}

/** The created subscription takes over the pending row holding its token (whoever gets there first). */
export async function activateSubscription(
  db: Db,
  verificationToken: string,
  created: { id: string; status: string; expiresAt: Date },
): Promise<void> {
  await db
    .updateTable('ringcentral_subscriptions')
    .set({ id: created.id, status: created.status, expires_at: created.expiresAt, updated_at: sql`now()` })
    .where('verification_token', '=', verificationToken)
    .execute();
}

/** Pending rows (few: one per create in progress or crashed), for the receiver to match a token against. */
export async function listPendingSubscriptions(db: Db) {
  return db.selectFrom('ringcentral_subscriptions').selectAll().where('status', '=', PENDING).execute();
}

/** A notification proved (by its token) that the pending row's subscription exists under `id`. */
export async function adoptPendingSubscription(db: Db, pendingId: string, id: string): Promise<void> {
  await db
    .updateTable('ringcentral_subscriptions')
    .set({ id, status: 'Active', updated_at: sql`now()` })
    .where('id', '=', pendingId)
    .where('status', '=', PENDING)
    .execute();
}

/** RingCentral refused to create the subscription: its pending row authenticates nothing. */
export async function dropPendingSubscription(db: Db, verificationToken: string): Promise<void> {
  await db
    .deleteFrom('ringcentral_subscriptions')
    .where('verification_token', '=', verificationToken)
    .where('status', '=', PENDING)
    .execute();
}
