/**
 * Every `error.code` the HTTP API v1 answers with, its status and what it means. The OpenAPI
 * document lists them (components.schemas.ErrorCode), and a test checks that every code the API
 * code can produce is here.
 */
export const V1_ERROR_CODES = {
  INVALID_REQUEST: [
    400,
    'A field is missing, of the wrong type, unknown, or out of range; the message names it.',
  ],
  INVALID_JSON: [400, 'The body is not valid JSON.'],
  INVALID_MULTIPART: [400, 'The multipart/form-data body is malformed or ended early.'],
  INVALID_SEND_AT: [
    400,
    '`sendAt` is not an ISO 8601 time with an offset, is in the past, or is over a year ahead.',
  ],
  INVALID_CURSOR: [400, 'The `cursor` is not one this API returned.'],
  INVALID_IDEMPOTENCY_KEY: [
    400,
    'The `Idempotency-Key` header is malformed (1-128 letters, digits, `.`, `_`, `:`, `-`).',
  ],
  BAD_REQUEST: [400, 'The request was refused before it reached a route (headers, framing).'],
  UNAUTHENTICATED: [401, 'No API key: send `Authorization: Bearer fxf_...`.'],
  INVALID_API_KEY: [401, 'The API key is malformed, unknown or revoked.'],
  TENANT_DISABLED: [403, "The API key's tenant is disabled."],
  NOT_FOUND: [404, 'No such route, or no such fax, broadcast or document for this tenant.'],
  METHOD_NOT_ALLOWED: [405, 'The path exists with other methods.'],
  TOO_LATE: [409, 'The fax cannot be canceled or rescheduled any more (already transmitted or finished).'],
  IDEMPOTENCY_KEY_IN_USE: [
    409,
    'A request with this `Idempotency-Key` is still being processed; retry shortly.',
  ],
  PAYLOAD_TOO_LARGE: [
    413,
    'The body or the documents are larger than allowed (JSON 10 MiB; documents 50 MB per fax).',
  ],
  TOO_MANY_PARTS: [413, 'The form has too many files or fields.'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'The Content-Type is not accepted by this route.'],
  IDEMPOTENCY_KEY_REUSED: [422, 'The `Idempotency-Key` was used before for a different request.'],
  UNKNOWN_DOCUMENT: [422, 'A `documentIds` entry names no document of this tenant.'],
  EMPTY_DOCUMENT: [422, 'A document has 0 bytes.'],
  UNSUPPORTED_TYPE: [
    422,
    'A document is not PDF, TIFF, PNG, JPEG, GIF, BMP or plain text (told from its bytes).',
  ],
  CORRUPT_PDF: [422, 'A PDF is truncated or damaged.'],
  ENCRYPTED_PDF: [422, 'A PDF is encrypted.'],
  DOCUMENT_TOO_LARGE: [422, 'The documents together are over 50 MB.'],
  TOO_MANY_PAGES: [422, 'The documents together have over 200 pages.'],
  NO_DOCUMENTS: [422, 'The fax has no documents.'],
  INVALID_NUMBER: [422, 'A recipient is not a valid fax number.'],
  PREMIUM_RATE_NUMBER: [422, 'A recipient is a premium-rate number this tenant may not fax.'],
  DOCUMENT_MISSING: [422, 'A referenced document is not in the document store.'],
  RATE_LIMITED: [429, "Over this API key's request rate; retry after `Retry-After` seconds."],
  INTERNAL: [500, 'An unexpected error; it has been logged.'],
  DATABASE_UNAVAILABLE: [503, 'The database is unavailable; retry after `Retry-After` seconds.'],
  TEMPORAL_UNAVAILABLE: [503, 'Temporal is unavailable; retry after `Retry-After` seconds.'],
} as const satisfies Record<string, readonly [number, string]>;

export type V1ErrorCode = keyof typeof V1_ERROR_CODES;
export const V1_ERROR_CODE_LIST = Object.keys(V1_ERROR_CODES) as V1ErrorCode[];
