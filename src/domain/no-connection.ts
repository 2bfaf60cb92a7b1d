/**
 * A tenant has no RingCentral connection that can send its fax (or not the one asked for). The
 * message says what to do; APIs answer it as 422 NO_CONNECTION.
 */
export class NoConnectionError extends Error {
  override readonly name = 'NoConnectionError';
  readonly code = 'NO_CONNECTION';
  constructor(
    readonly tenantId: string,
    message: string,
  ) {
    super(message);
  }
}
