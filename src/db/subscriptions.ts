import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

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

/** The subscription a notification names, if we created it and have not deleted it. */
export async function findSubscription(db: Db, id: string) {
  return db
    .selectFrom('ringcentral_subscriptions')
    .selectAll()
    .where('id', '=', id)
    .where('status', '!=', 'Deleted')
    .executeTakeFirst();
}
