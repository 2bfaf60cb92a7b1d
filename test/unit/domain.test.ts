import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toApplicationFailure } from '../../src/activities/failures';
import { isRedialable } from '../../src/domain/fax-error-codes';
import { isForwardMove } from '../../src/domain/fax-status';
import { RingCentralApiError, RingCentralNetworkError } from '../../src/ringcentral/errors';
import { cleanFilename } from '../../src/validation/filename';

describe('status ordering', () => {
  it('only moves forward', () => {
    expect(isForwardMove(undefined, 'Queued')).toBe(true);
    expect(isForwardMove('Queued', 'Sent')).toBe(true);
    expect(isForwardMove('Sent', 'Delivered')).toBe(true);
    expect(isForwardMove('Sent', 'Queued')).toBe(false);
    expect(isForwardMove('Delivered', 'Sent')).toBe(false);
    expect(isForwardMove('Delivered', 'DeliveryFailed')).toBe(false);
  });
});

describe('redial classification', () => {
  it('redials line problems only', () => {
    for (const code of ['LineBusy', 'NoAnswer', 'CallerHungUp', 'AllLinesInUse'])
      expect(isRedialable(code)).toBe(true);
    for (const code of ['InvalidNumber', 'RenderingFailed', 'NoFaxSendPermission', 'NotEnoughCredits']) {
      expect(isRedialable(code)).toBe(false);
    }
  });
});

describe('toApplicationFailure', () => {
  it("retries a 429 after the server's Retry-After plus jitter", () => {
    const failure = toApplicationFailure(
      new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 42, 'Heavy'),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nextRetryDelay).toBeGreaterThanOrEqual(42_000);
    expect((failure as ApplicationFailure).nextRetryDelay).toBeLessThanOrEqual(42_000 * 1.25);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
  });

  it('makes a 4xx non-retryable and keeps 5xx and network errors retryable', () => {
    const bad = toApplicationFailure(
      new RingCentralApiError(415, 'MSG-348', 'Unsupported media type'),
    ) as ApplicationFailure;
    expect(bad.nonRetryable).toBe(true);
    expect(bad.type).toBe('RingCentralRejected');
    const down = toApplicationFailure(
      new RingCentralApiError(503, 'CMN-211', 'Service unavailable'),
    ) as ApplicationFailure;
    expect(down.nonRetryable).toBe(false);
    const net = toApplicationFailure(
      new RingCentralNetworkError('socket hang up', true),
    ) as ApplicationFailure;
    expect(net.nonRetryable).toBe(false);
  });
});

describe('cleanFilename', () => {
  it('removes characters RingCentral refuses and forces the detected extension', () => {
    expect(cleanFilename('Q3 & Q4 @ 50%*.PDF', 'pdf')).toBe('Q3 _ Q4 _ 50.pdf');
    expect(cleanFilename('../../etc/passwd', 'txt')).toBe('passwd.txt');
    expect(cleanFilename('$$$', 'pdf')).toBe('document.pdf');
  });
});
