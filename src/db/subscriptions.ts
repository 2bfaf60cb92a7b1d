import type { Db } from './schema';

export interface SubscriptionRecord {
  id: string;
  credentialKey: string;
  verificationToken: string;
  address: string;
  status: string;
  expiresAt: Date;
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
  change: { status: string; expiresAt: Date },
): Promise<void> {
  await db
    .updateTable('ringcentral_subscriptions')
    .set({ status: change.status, expires_at: change.expiresAt, updated_at: new Date() })
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

/** The subscription a notification names, if we created it and have not deleted it. */
export async function findSubscription(db: Db, id: string) {
  return db
    .selectFrom('ringcentral_subscriptions')
    .selectAll()
    .where('id', '=', id)
    .where('status', '!=', 'Deleted')
    .executeTakeFirst();
}
