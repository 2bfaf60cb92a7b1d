/**
 * RingCentral failures, translated once at the adapter boundary. Activities turn these into
 * Temporal `ApplicationFailure`s; nothing above the adapter reads HTTP responses.
 */
export class RingCentralApiError extends Error {
  override name = 'RingCentralApiError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly retryAfterSeconds?: number,
    readonly rateLimitGroup?: string,
  ) {
    super(`RingCentral ${status} ${errorCode}: ${message}`);
  }

  get isRateLimited(): boolean {
    return this.status === 429;
  }

  /** 5xx and 429 are worth retrying; 401 too (the SDK refreshes the token). Other 4xx are final. */
  get isRetryable(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 401 || this.status === 408;
  }
}

/**
 * The request failed without an HTTP answer: connection refused, reset, or timed out. When the
 * request may have reached RingCentral (`ambiguous`), a send may have succeeded anyway.
 */
export class RingCentralNetworkError extends Error {
  override name = 'RingCentralNetworkError';
  constructor(
    message: string,
    readonly ambiguous: boolean,
  ) {
    super(message);
  }
}
