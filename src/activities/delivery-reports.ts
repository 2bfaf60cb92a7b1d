import { accountReportsDelivery, recordDeliveryReport } from '../db/delivery-reports';
import type { RingCentralMessageStatus } from '../domain/fax-status';
import type { ActivityDeps } from './deps';

/**
 * Whether `Sent` is this connection's (its key: see connection.ts) final success. Accounts of the kind RingCentral's reference
 * documents never report delivery, so until a Delivered or DeliveryFailed has been seen for the
 * credential (or RINGCENTRAL_DELIVERY_REPORTS says otherwise), Sent is final.
 */
export async function sentIsFinal(deps: ActivityDeps, connection: string): Promise<boolean> {
  switch (deps.deliveryReports ?? 'auto') {
    case 'yes':
      return false;
    case 'no':
      return true;
    case 'auto':
      return !(await accountReportsDelivery(deps.db, connection));
  }
}

/** Learns from a status that only accounts reporting delivery ever show. */
export async function learnFromStatus(
  deps: ActivityDeps,
  connection: string,
  messageId: string,
  status: RingCentralMessageStatus,
): Promise<void> {
  await recordDeliveryReport(deps.db, connection, { status, messageId });
}
