import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { CONNECTION_UNAVAILABLE, type ConnectionUnavailableDetail } from '../contracts/connection-failure';
import { ConnectionUnavailableError } from '../ringcentral/connections';
import { RingCentralApiError, RingCentralAuthError, RingCentralNetworkError } from '../ringcentral/errors';
import { RateBudgetExhaustedError } from '../ringcentral/rate-budgets';

/** Auth retries back off from 5 s, doubling per activity attempt, up to 5 min. */
const AUTH_BACKOFF_BASE_MS = 5_000;
const AUTH_BACKOFF_MAX_MS = 300_000;
/** Up to this share is added to a server-given delay, so retries from many workers spread out. */
const JITTER = 0.25;

/**
 * `ms` plus 0-25 %: retrying exactly at Retry-After makes every worker that was told the same
 * window hit RingCentral in the same instant, which restarts its 60 s penalty again and again.
 */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 + JITTER * random()));
}

/**
 * Translates RingCentral failures into Temporal's vocabulary at the activity boundary:
 * - auth (login, refresh, 401): never the job's failure; retried with backoff while the adapter
 *   rebuilds its login;
 * - 429, and 503 with Retry-After: retry after the server's Retry-After plus jitter (`nextRetryDelay`);
 * - other 4xx: non-retryable, the same request will fail the same way;
 * - other 5xx, 408, network: retryable with the activity's retry policy.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ConnectionUnavailableError) {
    // The tenant must reconnect: retrying cannot help, the workflow waits for the connection instead.
    return ApplicationFailure.create({
      type: CONNECTION_UNAVAILABLE,
      message: err.message,
      details: [
        {
          connectionId: err.connectionId,
          status: err.status,
          reason: err.reason,
        } satisfies ConnectionUnavailableDetail,
      ],
      nonRetryable: true,
    });
  }
  if (isAuthFailure(err)) {
    const retryAfterSeconds = err.retryAfterSeconds;
    // A 429 says when to come back. The backoff is for failures without guidance (an auth outage):
    // it grows with the activity's attempts, and those also count a send's waits for its number or
    // its budget, so after a long wait it would hold a mere rate limit for 5 min (chaos all-faults).
    const backoff =
      err.status === 429 && retryAfterSeconds !== undefined
        ? 0
        : Math.min(AUTH_BACKOFF_MAX_MS, AUTH_BACKOFF_BASE_MS * 2 ** (activityAttempt() - 1));
    return ApplicationFailure.create({
      type: 'RingCentralAuthUnavailable',
      message: err.message,
      details: [{ status: err.status, errorCode: err.errorCode, retryAfterSeconds }],
      nextRetryDelay: jittered(Math.max(backoff, (retryAfterSeconds ?? 0) * 1000)),
    });
  }
  if (err instanceof RingCentralApiError) {
    const details = [
      { status: err.status, errorCode: err.errorCode, retryAfterSeconds: err.retryAfterSeconds },
    ];
    if (err.isRateLimited) {
      return ApplicationFailure.create({
        type: 'RingCentralRateLimited',
        message: err.message,
        details,
        nextRetryDelay: jittered(Math.max(1, err.retryAfterSeconds ?? 30) * 1000),
      });
    }
    // RingCentral said when it can take more (503 CMN-211 "service overloaded"): honour it like a 429.
    const serverDelay =
      err.isRetryable && err.retryAfterSeconds !== undefined
        ? { nextRetryDelay: jittered(err.retryAfterSeconds * 1000) }
        : {};
    return ApplicationFailure.create({
      type: err.isRetryable ? 'RingCentralUnavailable' : 'RingCentralRejected',
      message: err.message,
      details,
      nonRetryable: !err.isRetryable,
      ...serverDelay,
    });
  }
  if (err instanceof RateBudgetExhaustedError) {
    // Not a failure of RingCentral's: wait exactly until our shared budget has a slot again.
    return ApplicationFailure.create({
      type: 'RateBudgetExhausted',
      message: err.message,
      nextRetryDelay: Math.max(1, err.retryInMs),
    });
  }
  if (err instanceof RingCentralNetworkError) {
    return ApplicationFailure.create({ type: 'RingCentralNetworkError', message: err.message });
  }
  return err;
}

/**
 * True when the error proves RingCentral did not accept the request (so a send did not happen).
 * Auth errors do: the adapter raises them only when the login or refresh failed before the request
 * left, or RingCentral answered 401. They are never final (see `toApplicationFailure`).
 */
export function provesNotSent(err: unknown): boolean {
  if (err instanceof RateBudgetExhaustedError) return true;
  if (err instanceof RingCentralAuthError) return true;
  // No usable token: nothing left for RingCentral.
  if (err instanceof ConnectionUnavailableError) return true;
  if (err instanceof RingCentralApiError) return err.status >= 400 && err.status < 500;
  if (err instanceof RingCentralNetworkError) return !err.ambiguous;
  return false;
}

interface AuthFailureLike {
  message: string;
  status?: number | undefined;
  errorCode?: string | undefined;
  retryAfterSeconds?: number | undefined;
}

/** Auth errors, including token-endpoint answers that reach here untranslated (OAU-xxx, invalid_grant). */
function isAuthFailure(err: unknown): err is AuthFailureLike {
  if (err instanceof RingCentralAuthError) return true;
  if (!(err instanceof RingCentralApiError)) return false;
  return (
    err.status === 401 ||
    err.errorCode.startsWith('OAU-') ||
    ['invalid_grant', 'invalid_client', 'unauthorized_client'].includes(err.errorCode)
  );
}

/** The activity's attempt number (1 outside an activity, e.g. in unit tests). */
function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
