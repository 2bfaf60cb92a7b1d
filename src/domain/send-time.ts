/** Send times a little in the past are "now" (clock skew, slow submission); older ones are mistakes. */
export const SEND_AT_GRACE_MS = 5 * 60_000;
/** Further ahead than this is almost certainly a typo in the year. */
export const SEND_AT_MAX_AHEAD_MS = 366 * 24 * 3600_000;

/** Why `sendAt` is unacceptable at `nowMs`, or undefined when it is fine. Pure: workflow-safe. */
export function sendAtProblem(sendAt: string, nowMs: number): string | undefined {
  const at = Date.parse(sendAt);
  if (Number.isNaN(at))
    return `sendAt "${sendAt}" is not a date; give an ISO 8601 time such as 2026-12-01T09:00:00Z.`;
  if (at < nowMs - SEND_AT_GRACE_MS) {
    return `sendAt ${new Date(at).toISOString()} is in the past; give a time from now on (up to 5 minutes late is taken as now).`;
  }
  if (at > nowMs + SEND_AT_MAX_AHEAD_MS) {
    return `sendAt ${new Date(at).toISOString()} is more than a year ahead; give a time within the next 366 days.`;
  }
  return undefined;
}
