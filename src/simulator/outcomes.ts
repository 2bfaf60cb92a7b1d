/**
 * What happens to each recipient of a fax, chosen by the recipient's number ("magic numbers").
 * All offsets are simulated milliseconds counted from the moment rendering finished.
 */

export type RecipientStatus = 'Queued' | 'Sent' | 'Delivered' | 'DeliveryFailed' | 'SendingFailed';

/**
 * How an account reports outbound faxes. RingCentral's reference defines Sent as the final success and
 * staff answers (2019) agree, while a 2025 staff answer describes Delivered/DeliveryFailed after Sent:
 * the simulator offers both, per user.
 * - `sent-final`: Queued -> Sent, or Queued -> SendingFailed with `faxErrorCode` (line failures too).
 * - `delivery-reports`: Queued -> Sent -> Delivered, line failures as DeliveryFailed after Sent.
 */
export type StatusModel = 'sent-final' | 'delivery-reports';
export const STATUS_MODELS: readonly StatusModel[] = ['sent-final', 'delivery-reports'];
export const DEFAULT_STATUS_MODEL: StatusModel = 'sent-final';

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
  model: StatusModel = DEFAULT_STATUS_MODEL,
): OutcomeStep[] {
  const steps = deliveryReportsPlan(phoneNumber, pages, msPerPage, sendIndex);
  return model === 'delivery-reports' ? steps : sentFinal(steps);
}

/**
 * The same outcome on an account that never reports delivery: a failure after Sent becomes a
 * SendingFailed at the moment the line failed (never preceded by Sent), a success ends at Sent at
 * the moment delivery would have been confirmed for a slow number, else when transmission ended.
 */
function sentFinal(steps: OutcomeStep[]): OutcomeStep[] {
  const failure = steps.find((s) => s.status === 'DeliveryFailed' || s.status === 'SendingFailed');
  if (failure) return [{ ...failure, status: 'SendingFailed' }];
  const delivered = steps.find((s) => s.status === 'Delivered');
  const sent = steps.find((s) => s.status === 'Sent');
  if (!sent) return steps;
  const slow = delivered !== undefined && delivered.atSimMs - sent.atSimMs > DIAL_SIM_MS;
  return [{ atSimMs: slow ? delivered.atSimMs : sent.atSimMs, status: 'Sent' }];
}

function deliveryReportsPlan(
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
