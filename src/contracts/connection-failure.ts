/**
 * The ApplicationFailure type of an activity whose RingCentral connection needs reconnecting
 * (ConnectionUnavailableError at the activity boundary). Non-retryable: FaxWorkflow then waits with
 * status `WaitingForConnection` until the connection is back (signal or periodic check).
 */
export const CONNECTION_UNAVAILABLE = 'ConnectionUnavailable';

/** The failure's first detail. */
export interface ConnectionUnavailableDetail {
  connectionId: string;
  status: string;
  reason: string;
}
