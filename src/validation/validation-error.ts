export type ValidationCode =
  | 'EMPTY_DOCUMENT'
  | 'UNSUPPORTED_TYPE'
  | 'CORRUPT_PDF'
  | 'ENCRYPTED_PDF'
  | 'DOCUMENT_TOO_LARGE'
  | 'TOO_MANY_PAGES'
  | 'NO_DOCUMENTS'
  | 'INVALID_NUMBER'
  | 'PREMIUM_RATE_NUMBER'
  | 'DOCUMENT_MISSING'
  | 'INVALID_REQUEST';

/** A request faxflow refuses: `code` for machines, `message` is one sentence for people. */
export class FaxValidationError extends Error {
  override name = 'FaxValidationError';
  constructor(
    readonly code: ValidationCode,
    message: string,
  ) {
    super(message);
  }
}
