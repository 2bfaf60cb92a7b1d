import { ApplicationFailure } from '@temporalio/common';
import { RingCentralApiError, RingCentralNetworkError } from '../ringcentral/errors';

/**
 * Translates RingCentral failures into Temporal's vocabulary at the activity boundary:
 * - 429: retry after exactly the server's Retry-After (`nextRetryDelay`), not our backoff;
 * - 4xx other than 401/408/429: non-retryable, the same request will fail the same way;
 * - 5xx, 401 (the SDK refreshes), network: retryable with the activity's retry policy.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof RingCentralApiError) {
    const details = [{ status: err.status, errorCode: err.errorCode, retryAfterSeconds: err.retryAfterSeconds }];
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
  if (err instanceof RingCentralNetworkError) {
    return ApplicationFailure.create({ type: 'RingCentralNetworkError', message: err.message });
  }
  return err;
}
