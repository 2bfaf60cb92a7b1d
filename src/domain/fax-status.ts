/**
 * Status vocabulary shared by workflows, activities and the database. Pure TypeScript with no
 * imports, so the deterministic workflow sandbox can load it.
 */

/** RingCentral's `messageStatus` for outbound faxes. */
export type RingCentralMessageStatus = 'Queued' | 'Sent' | 'Delivered' | 'DeliveryFailed' | 'SendingFailed';

export const RINGCENTRAL_MESSAGE_STATUSES: readonly RingCentralMessageStatus[] = [
  'Queued',
  'Sent',
  'Delivered',
  'DeliveryFailed',
  'SendingFailed',
];

/**
 * Whether an account reports delivery after Sent (RingCentral's sources disagree, see
 * docs/simulator.md): `auto` learns it per credential from the first Delivered or DeliveryFailed
 * seen; `yes` always waits for one; `no` takes Sent as the final success.
 */
export type DeliveryReportsMode = 'auto' | 'yes' | 'no';

/** Where a faxflow job stands. */
export type FaxJobStatus =
  | 'Accepted' // workflow started, nothing checked yet
  | 'Rejected' // validation refused it: final
  | 'Scheduled' // waiting for its send time
  | 'Sending' // a send attempt is in flight
  | 'Queued' // RingCentral accepted it
  | 'Sent' // transmitted: final success where the account does not report delivery, else waiting for it
  | 'WaitingToRedial' // an attempt failed in a way worth another try
  | 'WaitingForConnection' // the tenant's RingCentral connection needs reconnecting; resumes once it is back
  | 'Delivered' // final success
  | 'SentUnconfirmed' // final: Sent and then silence for the quiet period; treated as success
  | 'Failed' // final failure
  | 'Canceled' // final
  | 'NeedsReview' // final for faxflow: a cut-off send could not be told apart; a person decides
  | 'Expired'; // final: the kill time passed

const FINAL: ReadonlySet<FaxJobStatus> = new Set([
  'Rejected',
  'Delivered',
  'SentUnconfirmed',
  'Failed',
  'Canceled',
  'Expired',
  'NeedsReview',
]);

export function isFinalStatus(status: FaxJobStatus): boolean {
  return FINAL.has(status);
}

/**
 * A job's result that counts as success. `Sent` is a workflow's result only where the account
 * does not report delivery (elsewhere it is an in-flight status and never a result).
 */
export function isSuccessStatus(status: FaxJobStatus): boolean {
  return status === 'Delivered' || status === 'Sent' || status === 'SentUnconfirmed';
}

/**
 * Order of a RingCentral message's life. Statuses only move forward: an observation ranked
 * lower than what we know (a stale poll, a reordered webhook) changes nothing.
 */
const MESSAGE_RANK: Record<RingCentralMessageStatus, number> = {
  Queued: 0,
  Sent: 1,
  Delivered: 2,
  DeliveryFailed: 2,
  SendingFailed: 2,
};

export function isMessageFinal(status: RingCentralMessageStatus): boolean {
  return MESSAGE_RANK[status] === 2;
}

export function isForwardMove(
  from: RingCentralMessageStatus | undefined,
  to: RingCentralMessageStatus,
): boolean {
  return from === undefined || MESSAGE_RANK[to] > MESSAGE_RANK[from];
}
