import { ConfigError } from '../config/config';
import { MissingEncryptionKeyError, TokenDecryptionError } from '../connections/token-cipher';
import { FaxValidationError } from '../validation/validation-error';

/** A failure the user can act on: printed as one sentence, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The one sentence shown for an error; unexpected errors keep their message and name the log. */
export function describeError(err: unknown): { message: string; expected: boolean } {
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof MissingEncryptionKeyError ||
    err instanceof TokenDecryptionError
  )
    return { message: err.message, expected: true };
  if (err instanceof FaxValidationError) return { message: `${err.message} [${err.code}]`, expected: true };
  const message = err instanceof Error ? err.message : String(err);
  return { message, expected: false };
}
