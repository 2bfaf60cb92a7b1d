import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { jittered, provesNotSent, toApplicationFailure } from '../../src/activities/failures';
import { RingCentralApiError, RingCentralAuthError } from '../../src/ringcentral/errors';

const asFailure = (err: unknown) => toApplicationFailure(err) as ApplicationFailure;

/** nextRetryDelay as milliseconds (the SDK accepts a number of ms or a duration string). */
function delayMs(failure: ApplicationFailure): number {
  const d = failure.nextRetryDelay;
  if (typeof d === 'number') return d;
  throw new Error(`unexpected nextRetryDelay ${String(d)}`);
}

describe('auth failures are never a job failure', () => {
  const authErrors = [
    new RingCentralAuthError(
      'RingCentral token refresh failed: 400 invalid_grant: Token is expired',
      400,
      'invalid_grant',
    ),
    new RingCentralAuthError('RingCentral token refresh failed: 503 CMN-211: overloaded', 503, 'CMN-211', 9),
    new RingCentralAuthError('RingCentral login failed: socket hang up'),
    // Auth errors that reach the boundary without the adapter's translation.
    new RingCentralApiError(400, 'OAU-211', 'Token is expired'),
    new RingCentralApiError(400, 'invalid_grant', 'Token is expired'),
    new RingCentralApiError(401, 'OAU-213', 'Token not found'),
  ];

  it.each(authErrors.map((e) => [e.message, e]))('%s: retryable with a backoff, never final', (_, err) => {
    const failure = asFailure(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('RingCentralAuthUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(delayMs(failure)).toBeGreaterThanOrEqual(1_000);
  });

  it("waits at least the token endpoint's Retry-After, with jitter", () => {
    const failure = asFailure(new RingCentralAuthError('x', 503, 'CMN-211', 9));
    expect(delayMs(failure)).toBeGreaterThanOrEqual(9_000);
    expect(delayMs(failure)).toBeLessThanOrEqual(9_000 * 1.25);
  });

  it("a rate-limited token endpoint is retried after its Retry-After, whatever the activity's attempt number", async () => {
    // Chaos all-faults at 300 faxes: a send that had waited 119 attempts for its number (each wait a
    // retry) then met a 429 on the token refresh (Retry-After 1 s), and the attempt-based backoff set
    // its next try 342 s later, past the run's deadline. A 429 says when to come back.
    const env = new MockActivityEnvironment({ attempt: 120 });
    const rateLimited = new RingCentralAuthError(
      'RingCentral refused the refresh token: 429',
      429,
      'CMN-301',
      1,
    );
    const failure: ApplicationFailure = await env.run(async () => asFailure(rateLimited));
    expect(failure.type).toBe('RingCentralAuthUnavailable');
    expect(delayMs(failure)).toBeGreaterThanOrEqual(1_000);
    expect(delayMs(failure)).toBeLessThanOrEqual(1_250);
    // Without guidance the backoff still grows with the attempts (an auth outage), up to 5 min.
    const down = new RingCentralAuthError('RingCentral login failed: socket hang up');
    const outage: ApplicationFailure = await env.run(async () => asFailure(down));
    expect(delayMs(outage)).toBeGreaterThanOrEqual(300_000);
  });

  it('an auth error proves the send did not happen, so the attempt is NotSent and retried, not Rejected', () => {
    // The adapter raises auth errors only before the fax request was accepted (login, refresh, 401).
    expect(provesNotSent(new RingCentralAuthError('x', 503))).toBe(true);
    expect(asFailure(new RingCentralAuthError('x', 400, 'invalid_grant')).nonRetryable).toBe(false);
  });
});

describe('Retry-After with jitter', () => {
  it('jitter adds 0 to 25 % to the delay', () => {
    expect(jittered(10_000, () => 0)).toBe(10_000);
    expect(jittered(10_000, () => 0.999_999)).toBe(12_500);
    expect(jittered(10_000, () => 0.5)).toBe(11_250);
  });

  it('a 429 is retried after its Retry-After plus jitter, not exactly at it', () => {
    const delays = Array.from({ length: 50 }, () =>
      delayMs(asFailure(new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 42, 'Heavy'))),
    );
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(42_000);
      expect(d).toBeLessThanOrEqual(42_000 * 1.25);
    }
    // Not all the same instant: retries from many workers spread out.
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it("a 503 CMN-211 with Retry-After is honoured like a 429; without one the retry policy's backoff applies", () => {
    const overloaded = asFailure(new RingCentralApiError(503, 'CMN-211', 'Service overloaded', 20));
    expect(overloaded.nonRetryable).toBe(false);
    expect(delayMs(overloaded)).toBeGreaterThanOrEqual(20_000);
    expect(delayMs(overloaded)).toBeLessThanOrEqual(25_000);
    expect(
      asFailure(new RingCentralApiError(503, 'CMN-211', 'Service overloaded')).nextRetryDelay,
    ).toBeUndefined();
  });
});
