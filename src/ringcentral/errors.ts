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

/**
 * Logging in or refreshing the token failed (token endpoint down, refresh token refused, JWT
 * refused, or RingCentral still answering 401 with a fresh token). Never a fault of the fax: the
 * login is rebuilt and the call is retried with backoff. No request for the job's own operation
 * was accepted, so a send that failed this way did not happen.
 */
export class RingCentralAuthError extends Error {
  override name = 'RingCentralAuthError';
  constructor(
    message: string,
    /** HTTP status of the token endpoint's (or API's 401) answer; undefined without one. */
    readonly status?: number,
    readonly errorCode?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
