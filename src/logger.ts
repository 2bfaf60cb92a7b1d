import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Field names a credential or token travels under (RingCentral OAuth, our webhook subscriptions, the
 * signing secrets of upstream webhook endpoints and their sealed form).
 */
export const SECRET_FIELDS = [
  'authorization',
  'access_token',
  'refresh_token',
  'jwt',
  'clientSecret',
  'password',
  'verificationToken',
  'secret',
  'previous_secret',
  'secret_ciphertext',
];

/**
 * pino redacts exact paths only (no recursive wildcard): cover each name at the top level and up
 * to three objects deep, which reaches e.g. `err.config.headers.authorization` of an HTTP error.
 */
function redactPaths(): string[] {
  return SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);
}

/**
 * One pino logger per process. Secrets never reach its output: the redact list covers every field
 * name a credential could travel under. `destination` is for tests; the default is stdout.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactPaths(), censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
