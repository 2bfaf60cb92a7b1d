/**
 * What happens to each recipient of a fax, chosen by the recipient's number ("magic numbers").
 * All offsets are simulated milliseconds counted from the moment rendering finished.
 */

export type RecipientStatus = 'Queued' | 'Sent' | 'Delivered' | 'DeliveryFailed' | 'SendingFailed';

export interface OutcomeStep {
  /** simulated ms after rendering finished */
  atSimMs: number;
  status: RecipientStatus;
  faxErrorCode?: string;
}

export const MAGIC = {
  busyTwiceThenDelivered: '+15550000001',
  noAnswer: '+15550000002',
  invalidNumber: '+15550000003',
  slowDelivery: '+15550000004',
  sentNeverDelivered: '+15550000005',
  renderingFailed: '+15550000006',
} as const;

/** Simulated delay of dialling and of the delivery confirmation. */
export const DIAL_SIM_MS = 5_000;
/** Simulated rendering time before any recipient is dialled. */
export const RENDER_SIM_MS = 2_000;
const BUSY_SIM_MS = 30_000;
const NO_ANSWER_SIM_MS = 60_000;
const SLOW_DELIVERY_SIM_MS = 10 * 60_000;

/** Canonical form for matching: digits with a leading +; a bare 11-digit NANP number gets its +. */
export function canonicalNumber(raw: string): string {
  const digits = raw.replace(/[^\d]/g, '');
  return `+${digits}`;
}

/**
 * @param sendIndex 1 for the first send to this number since the last reset, 2 for the second, ...
 */
export function planFor(
  phoneNumber: string,
  pages: number,
  msPerPage: number,
  sendIndex: number,
): OutcomeStep[] {
  const transmit = pages * msPerPage;
  switch (canonicalNumber(phoneNumber)) {
    case MAGIC.busyTwiceThenDelivered:
      if (sendIndex <= 2)
        return [
          { atSimMs: DIAL_SIM_MS, status: 'Sent' },
          { atSimMs: DIAL_SIM_MS + BUSY_SIM_MS, status: 'DeliveryFailed', faxErrorCode: 'LineBusy' },
        ];
      break;
    case MAGIC.noAnswer:
      return [
        { atSimMs: DIAL_SIM_MS, status: 'Sent' },
        { atSimMs: DIAL_SIM_MS + NO_ANSWER_SIM_MS, status: 'DeliveryFailed', faxErrorCode: 'NoAnswer' },
      ];
    case MAGIC.invalidNumber:
      return [{ atSimMs: DIAL_SIM_MS, status: 'SendingFailed', faxErrorCode: 'InvalidNumber' }];
    case MAGIC.slowDelivery:
      return [
        { atSimMs: transmit, status: 'Sent' },
        { atSimMs: Math.max(SLOW_DELIVERY_SIM_MS, transmit + DIAL_SIM_MS), status: 'Delivered' },
      ];
    case MAGIC.sentNeverDelivered:
      return [{ atSimMs: transmit, status: 'Sent' }];
    case MAGIC.renderingFailed:
      return [{ atSimMs: 0, status: 'SendingFailed', faxErrorCode: 'RenderingFailed' }];
  }
  return [
    { atSimMs: transmit, status: 'Sent' },
    { atSimMs: transmit + DIAL_SIM_MS, status: 'Delivered' },
  ];
}

/** Top-level status from the recipients': any Queued -> Queued; else any SendingFailed; else any DeliveryFailed; else any Sent; else Delivered. */
export function aggregateStatus(statuses: RecipientStatus[]): RecipientStatus {
  if (statuses.includes('Queued')) return 'Queued';
  if (statuses.includes('SendingFailed')) return 'SendingFailed';
  if (statuses.includes('DeliveryFailed')) return 'DeliveryFailed';
  if (statuses.includes('Sent')) return 'Sent';
  return 'Delivered';
}
