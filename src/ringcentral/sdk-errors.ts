/** Translating what `@ringcentral/sdk` throws into the adapter's errors, with secrets removed. */
import { RingCentralApiError, RingCentralAuthError, RingCentralNetworkError } from './errors';

const TOKEN_PATH = '/restapi/oauth/token';

/** Errors raised before any byte left this machine: a send that failed this way cannot have happened. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** What the SDK threw: an HTTP answer (`response`) or a transport error, tagged with its request. */
interface SdkError {
  response?: Response | null;
  request?: { url?: string } | null;
  code?: string;
  message?: string;
  originalMessage?: string;
}

/**
 * Why a request failed as far as authentication goes:
 * - `unauthorized`: the API refused our access token (401);
 * - `refresh-refused`: the token endpoint refused the refresh (invalid_grant) or the SDK has no
 *   refresh token left; only a new JWT login helps;
 * - `token-unavailable`: the token endpoint did not answer usefully (5xx, 429, network).
 */
export type AuthFailure = 'unauthorized' | 'refresh-refused' | 'token-unavailable' | undefined;

/** Whether (and how) a failed request is an authentication problem rather than the call's own. */
export function authFailureOf(err: unknown): AuthFailure {
  const e = err as SdkError;
  const url = e.request?.url ?? e.response?.url ?? '';
  const status = e.response?.status;
  if (url.includes(TOKEN_PATH)) {
    return status === 400 || status === 401 ? 'refresh-refused' : 'token-unavailable';
  }
  if (!e.response && /refresh token (is missing|has expired)/i.test(e.message ?? ''))
    return 'refresh-refused';
  if (status === 401) return 'unauthorized';
  return undefined;
}

/** Reads RingCentral's error body: status, error code, message and Retry-After, all redacted. */
async function describe(err: unknown, redact: (text: string) => string) {
  const e = err as SdkError;
  const response = e.response;
  if (!(response && typeof response.status === 'number')) {
    return { message: redact(e.originalMessage ?? e.message ?? String(err)) };
  }
  let errorCode = `HTTP-${response.status}`;
  let message = response.statusText || 'request failed';
  try {
    const body = (await response.clone().json()) as {
      errorCode?: string;
      message?: string;
      error?: string;
      error_description?: string;
      errors?: { errorCode?: string; message?: string }[];
    };
    errorCode = body.errorCode ?? body.errors?.[0]?.errorCode ?? body.error ?? errorCode;
    message = body.message ?? body.error_description ?? body.errors?.[0]?.message ?? message;
  } catch {
    // not JSON: keep the HTTP status line
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    errorCode: redact(errorCode),
    message: redact(message),
    retryAfterSeconds:
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : response.status === 429 ? 30 : undefined,
    rateLimitGroup: response.headers.get('x-rate-limit-group') ?? undefined,
  };
}

/** An auth failure at `stage`, with RingCentral's status, error code and Retry-After, redacted. */
export async function toAuthError(
  err: unknown,
  stage: 'login' | 'refresh' | 'request',
  redact: (text: string) => string,
): Promise<RingCentralAuthError> {
  if (err instanceof RingCentralAuthError) return err;
  const d = await describe(err, redact);
  const what =
    stage === 'login'
      ? 'RingCentral login failed'
      : stage === 'refresh'
        ? 'RingCentral token refresh failed'
        : 'RingCentral refused a fresh access token';
  const detail = d.status === undefined ? d.message : `${d.status} ${d.errorCode}: ${d.message}`;
  return new RingCentralAuthError(`${what}: ${detail}`, d.status, d.errorCode, d.retryAfterSeconds);
}

/** Maps whatever the SDK threw to one of our error types, reading RingCentral's error body. */
export async function toRingCentralError(
  err: unknown,
  mayHaveBeenSent: boolean,
  redact: (text: string) => string,
): Promise<Error> {
  if (
    err instanceof RingCentralApiError ||
    err instanceof RingCentralNetworkError ||
    err instanceof RingCentralAuthError
  ) {
    return err;
  }
  const e = err as SdkError;
  const d = await describe(err, redact);
  if (d.status !== undefined) {
    return new RingCentralApiError(d.status, d.errorCode, d.message, d.retryAfterSeconds, d.rateLimitGroup);
  }
  const notSent = e.code !== undefined && NOT_SENT_CODES.has(e.code);
  return new RingCentralNetworkError(`RingCentral request failed: ${d.message}`, mayHaveBeenSent && !notSent);
}
