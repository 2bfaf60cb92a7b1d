import { ApplicationFailure } from '@temporalio/common';
import { RingCentralApiError, RingCentralNetworkError } from '../ringcentral/errors';
import { RateBudgetExhaustedError } from '../ringcentral/rate-budgets';

/**
 * Translates RingCentral failures into Temporal's vocabulary at the activity boundary:
 * - 429: retry after exactly the server's Retry-After (`nextRetryDelay`), not our backoff;
 * - 4xx other than 401/408/429: non-retryable, the same request will fail the same way;
 * - 5xx, 401 (the SDK refreshes), network: retryable with the activity's retry policy.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof RingCentralApiError) {
    const details = [
      { status: err.status, errorCode: err.errorCode, retryAfterSeconds: err.retryAfterSeconds },
    ];
    if (err.isRateLimited) {
      return ApplicationFailure.create({
        type: 'RingCentralRateLimited',
        message: err.message,
        details,
        nextRetryDelay: `${Math.max(1, err.retryAfterSeconds ?? 30)}s`,
      });
    }
    return ApplicationFailure.create({
      type: err.isRetryable ? 'RingCentralUnavailable' : 'RingCentralRejected',
      message: err.message,
      details,
      nonRetryable: !err.isRetryable,
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

/** True when the error proves RingCentral did not accept the request (so a send did not happen). */
export function provesNotSent(err: unknown): boolean {
  if (err instanceof RateBudgetExhaustedError) return true;
  if (err instanceof RingCentralApiError) return err.status >= 400 && err.status < 500;
  if (err instanceof RingCentralNetworkError) return !err.ambiguous;
  return false;
}
