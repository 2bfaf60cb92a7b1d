/** Send times a little in the past are "now" (clock skew, slow submission); older ones are mistakes. */
export const SEND_AT_GRACE_MS = 5 * 60_000;
/** Further ahead than this is almost certainly a typo in the year. */
export const SEND_AT_MAX_AHEAD_MS = 366 * 24 * 3600_000;

/**
 * ISO 8601 date-time with an explicit offset (Z or ±hh:mm). Anything else, "12/25/2026" or a time
 * without an offset, would be read in the server's time zone: a fax sent hours off.
 */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Echo at most this much of a bad value. */
const ECHO_MAX = 40;

/** Why `sendAt` is unacceptable at `nowMs`, or undefined when it is fine. Pure: workflow-safe. */
export function sendAtProblem(sendAt: string, nowMs: number): string | undefined {
  const shown = JSON.stringify(sendAt.length > ECHO_MAX ? `${sendAt.slice(0, ECHO_MAX)}...` : sendAt);
  const at = ISO_WITH_OFFSET.test(sendAt) ? Date.parse(sendAt) : Number.NaN;
  if (Number.isNaN(at))
    return `sendAt ${shown} is not an ISO 8601 time with an offset; give one such as 2026-12-01T09:00:00Z or 2026-12-01T09:00:00-05:00.`;
  if (at < nowMs - SEND_AT_GRACE_MS) {
    return `sendAt ${new Date(at).toISOString()} is in the past; give a time from now on (up to 5 minutes late is taken as now).`;
  }
  if (at > nowMs + SEND_AT_MAX_AHEAD_MS) {
    return `sendAt ${new Date(at).toISOString()} is more than a year ahead; give a time within the next 366 days.`;
  }
  return undefined;
}
