import type { V1ErrorBody } from '../../contracts/v1-api';

/**
 * Every answer of the API that is not a success, as thrown by the client: `code` is the API's
 * documented error code (or `NETWORK_ERROR` / `INVALID_RESPONSE` / `TIMEOUT` from the client).
 */
export class FaxflowApiError extends Error {
  override name = 'FaxflowApiError';
  constructor(
    readonly code: string,
    /** HTTP status; 0 when no answer came. */
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Seconds, from `Retry-After` on 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  static async fromResponse(res: Response): Promise<FaxflowApiError> {
    const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
    const text = await res.text().catch(() => '');
    let body: Partial<V1ErrorBody> | undefined;
    try {
      body = JSON.parse(text) as Partial<V1ErrorBody>;
    } catch {
      body = undefined;
    }
    const e = body?.error;
    return new FaxflowApiError(
      typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`,
      res.status,
      typeof e?.message === 'string' ? e.message : `HTTP ${res.status} ${res.statusText}`.trim(),
      e?.details,
      Number.isFinite(retryAfter) ? retryAfter : undefined,
    );
  }
}
