/** RingCentral-shaped errors. Every non-2xx answer of the simulator uses one of these two shapes. */

export interface ErrorEntry {
  errorCode: string;
  message: string;
  parameterName?: string;
}

export interface ApiErrorBody {
  errorCode: string;
  message: string;
  errors: ErrorEntry[];
  parameterName?: string;
}

/** An error of the REST API: `{errorCode, message, errors:[{errorCode, message, parameterName?}]}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly parameterName: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    errorCode: string,
    message: string,
    parameterName?: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
    this.parameterName = parameterName;
    this.headers = headers;
  }

  body(): ApiErrorBody {
    const entry: ErrorEntry = { errorCode: this.errorCode, message: this.message };
    if (this.parameterName !== undefined) entry.parameterName = this.parameterName;
    const body: ApiErrorBody = { errorCode: this.errorCode, message: this.message, errors: [entry] };
    if (this.parameterName !== undefined) body.parameterName = this.parameterName;
    return body;
  }
}

/** An OAuth error: `{error, error_description, errors:[{errorCode, message}]}`. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly errorCode: string;

  constructor(status: number, error: string, errorCode: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
    this.errorCode = errorCode;
  }

  body(): { error: string; error_description: string; errors: ErrorEntry[] } {
    return {
      error: this.error,
      error_description: this.message,
      errors: [{ errorCode: this.errorCode, message: this.message }],
    };
  }
}

export const invalidParameter = (name: string, message?: string): ApiError =>
  new ApiError(400, 'CMN-101', message ?? `Parameter [${name}] value is invalid`, name);

export const notFound = (what = 'resource'): ApiError =>
  new ApiError(404, 'CMN-102', `Resource for parameter [${what}] is not found`, what);

export const badJson = (detail: string): ApiError =>
  new ApiError(400, 'CMN-103', `Request body is not valid JSON: ${detail}`);

export const envelopeUnparsable = (detail: string): ApiError =>
  new ApiError(400, 'MSG-349', `Unable to parse the message envelope: ${detail}`);

export const messageTooLarge = (limitBytes: number): ApiError =>
  new ApiError(400, 'MSG-338', `Message size exceeds the limit of ${limitBytes} bytes`);

export const attachmentTooLarge = (filename: string, limitBytes: number): ApiError =>
  new ApiError(
    400,
    'MSG-337',
    `Attachment [${filename}] exceeds the limit of ${limitBytes} bytes`,
    'attachment',
  );

export const rateExceeded = (retryAfterSeconds: number): ApiError =>
  new ApiError(429, 'CMN-301', 'Request rate exceeded', undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

export const serviceUnavailable = (retryAfterSeconds: number): ApiError =>
  new ApiError(503, 'CMN-211', 'Service is temporarily unavailable, please retry later', undefined, {
    'Retry-After': String(retryAfterSeconds),
  });
