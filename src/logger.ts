import pino, { type Logger } from 'pino';

/**
 * One pino logger per process. Secrets never reach it: the redact list covers every field name
 * a credential could travel under, wherever it is nested.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        '*.clientSecret',
        '*.jwt',
        '*.password',
        '*.access_token',
        '*.refresh_token',
        '*.authorization',
        '*.verificationToken',
        'clientSecret',
        'jwt',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
