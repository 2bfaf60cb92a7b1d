import type { RingCentralMessageStatus } from '../domain/fax-status';
import type { Db } from './schema';

/**
 * Remembers that this credential's account reports delivery: the first Delivered or DeliveryFailed
 * seen for it. Only the first is kept; later ones change nothing.
 */
export async function recordDeliveryReport(
  db: Db,
  credentialKey: string,
  report: { status: RingCentralMessageStatus; messageId: string },
): Promise<void> {
  if (report.status !== 'Delivered' && report.status !== 'DeliveryFailed') return;
  await db
    .insertInto('ringcentral_delivery_reports')
    .values({ credential_key: credentialKey, first_status: report.status, message_id: report.messageId })
    .onConflict((oc) => oc.column('credential_key').doNothing())
    .execute();
}

/** Whether a Delivered or DeliveryFailed was ever seen for this credential. */
export async function accountReportsDelivery(db: Db, credentialKey: string): Promise<boolean> {
  const row = await db
    .selectFrom('ringcentral_delivery_reports')
    .select('credential_key')
    .where('credential_key', '=', credentialKey)
    .executeTakeFirst();
  return row !== undefined;
}
