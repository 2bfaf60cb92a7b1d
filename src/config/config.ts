import path from 'node:path';
import { z } from 'zod';
import type { FaxPolicy } from '../contracts/workflow-types';
import type { DeliveryReportsMode } from '../domain/fax-status';
import { parseEncryptionKeys, type EncryptionKey } from './encryption-keys';

/**
 * Configuration is read from the environment once, at start-up, validated, then frozen.
 * Every process (worker, CLI, API) goes through `loadConfig`, so a missing or malformed
 * setting fails fast with one sentence naming the variable and what it accepts.
 */
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const perMinute = () =>
  optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a whole number of calls per minute' })
      .int('must be a whole number of calls per minute')
      .min(1, 'must be at least 1 call per minute')
      .max(10_000, 'must be at most 10000 calls per minute')
      .optional(),
  );

const durationMs = z
  .number()
  .int()
  .min(0)
  .max(366 * 24 * 3_600_000);

/** Operators may tune the default timing of every job (a job's own `policy` still wins). */
const faxPolicySchema = z.strictObject(
  {
    maxAttempts: z.number().int().min(1).max(10).optional(),
    redialBackoffMs: durationMs.optional(),
    pollInitialMs: durationMs.min(100).optional(),
    pollMaxMs: durationMs.min(100).optional(),
    pollGrowth: z.number().min(1).max(10).optional(),
    sentQuietPeriodMs: durationMs.optional(),
    killAfterMs: durationMs.min(1_000).optional(),
    pollWithWebhooksMs: durationMs.min(100).optional(),
    sendRetryInitialMs: durationMs.min(100).optional(),
    continueAsNewAfterEvents: z.number().int().min(100).max(50_000).optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has unknown field(s) ${issue.keys.join(', ')}; the fields are those of FaxPolicy (see README)`
        : undefined,
  },
);
const port = () =>
  optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a port number' })
      .int('must be a port number')
      .min(0, 'must be a port number from 0 to 65535')
      .max(65_535, 'must be a port number from 0 to 65535')
      .optional(),
  );

const envSchema = z.object({
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection URL')
      .optional(),
  ),
  FAXFLOW_DATA_DIR: optionalString,
  FAXFLOW_TOOLS_DIR: optionalString,
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: optionalString,
  TEMPORAL_TASK_QUEUE: optionalString,
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_TEST_SERVER_PATH: optionalString,
  RINGCENTRAL_SERVER_URL: optionalString.pipe(z.url({ message: 'must be an http(s) URL' }).optional()),
  RINGCENTRAL_CLIENT_ID: optionalString,
  RINGCENTRAL_CLIENT_SECRET: optionalString,
  RINGCENTRAL_JWT: optionalString,
  RINGCENTRAL_DELIVERY_REPORTS: optionalString.pipe(
    z.enum(['auto', 'yes', 'no'], { message: 'must be auto, yes or no' }).optional(),
  ),
  FAXFLOW_DEFAULT_REGION: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be a two-letter ISO 3166 country code such as US or GB')
      .optional(),
  ),
  FAXFLOW_PUBLIC_URL: optionalString.pipe(z.url({ message: 'must be an http(s) URL' }).optional()),
  FAXFLOW_API_HOST: optionalString,
  FAXFLOW_API_PORT: port(),
  FAXFLOW_METRICS_HOST: optionalString,
  FAXFLOW_METRICS_PORT: port(),
  FAXFLOW_TEMPORAL_PORT: port(),
  FAXFLOW_TEMPORAL_UI_PORT: port(),
  RINGCENTRAL_HEAVY_PER_MINUTE: perMinute(),
  RINGCENTRAL_MEDIUM_PER_MINUTE: perMinute(),
  RINGCENTRAL_LIGHT_PER_MINUTE: perMinute(),
  FAXFLOW_RATE_WINDOW_MS: optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(100, 'must be at least 100 ms')
      .max(3_600_000, 'must be at most 3600000 ms (an hour)')
      .optional(),
  ),
  FAXFLOW_MAX_CACHED_WORKFLOWS: optionalString.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a whole number of workflows' })
      .int('must be a whole number of workflows')
      .min(0, 'must be 0 or more')
      .max(100_000, 'must be at most 100000')
      .optional(),
  ),
  FAXFLOW_FAX_POLICY: optionalString.pipe(
    z
      .string()
      .transform((raw, ctx) => {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: 'must be a JSON object such as {"redialBackoffMs":60000}',
          });
          return z.NEVER;
        }
      })
      .pipe(faxPolicySchema)
      .optional(),
  ),
  FAXFLOW_PREMIUM_RATE_TENANTS: optionalString.pipe(
    z
      .string()
      .regex(
        /^(\*|[A-Za-z0-9._:-]{1,128}(,[A-Za-z0-9._:-]{1,128})*)$/,
        'must be * or a comma-separated list of tenant ids',
      )
      .optional(),
  ),
  FAXFLOW_ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .transform((raw, ctx) => {
        try {
          return parseEncryptionKeys(raw);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
  ),
  NODE_ENV: optionalString,
  LOG_LEVEL: optionalString.pipe(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  ),
});

/** Every environment variable faxflow reads (the compose file's test checks against these). */
export const CONFIG_ENV_VARS: readonly string[] = Object.keys(envSchema.shape);

export interface RingCentralCredentials {
  readonly serverUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly jwt: string;
}

export interface Config {
  /** Unset means: run an embedded Postgres (PGlite) under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Where faxflow installs the Temporal binaries it provisions (absolute). */
  readonly toolsDir: string;
  /** Unset means: commands that can start their own Temporal dev server do so. */
  readonly temporalAddress: string | undefined;
  readonly temporalNamespace: string;
  readonly taskQueue: string;
  readonly temporalCliPath: string | undefined;
  readonly temporalTestServerPath: string | undefined;
  /** Ports of the dev server faxflow starts itself (0: any free port); unset: the command's default. */
  readonly temporalPort: number | undefined;
  readonly temporalUiPort: number | undefined;
  /** Unset means: use the RingCentral simulator. */
  readonly ringcentral: RingCentralCredentials | undefined;
  /**
   * Whether the account reports delivery after Sent: `auto` learns it per credential (the first
   * Delivered or DeliveryFailed seen); `yes` always waits for one; `no` takes Sent as final.
   */
  readonly deliveryReports: DeliveryReportsMode;
  readonly defaultRegion: string;
  readonly logLevel: string;
  /** Where RingCentral reaches our webhook receiver from outside; unset means the API's local URL. */
  readonly publicUrl: string | undefined;
  readonly apiHost: string;
  readonly apiPort: number;
  /** A worker's own `/metrics` (the API serves it on its port); unset: no metrics server. */
  readonly metricsHost: string;
  readonly metricsPort: number | undefined;
  /** Calls per 60 s per RingCentral rate-limit group, shared by every worker of this credential. */
  readonly rateBudgets: Readonly<{ Heavy: number; Medium: number; Light: number }>;
  /** The budgets' window: RingCentral counts 60 s; a simulator at a time scale counts less. */
  readonly rateWindowMs: number | undefined;
  /** Workflows a worker keeps in its sticky cache (Temporal's default: a share of the memory). */
  readonly maxCachedWorkflows: number | undefined;
  /** Tenants allowed to fax premium-rate numbers (`*` = all); refused for everyone else. */
  readonly premiumRateTenants: readonly string[];
  /** Default timing of jobs submitted through this process (API, CLI). */
  readonly faxPolicy: Readonly<Partial<FaxPolicy>> | undefined;
  /** FAXFLOW_ENCRYPTION_KEY: the first key encrypts connection tokens, the others only decrypt. */
  readonly encryptionKeys: readonly EncryptionKey[] | undefined;
  /** NODE_ENV=production: no generated development key, FAXFLOW_ENCRYPTION_KEY is required. */
  readonly production: boolean;
}

/** `FAXFLOW_TOOLS_DIR`, else `<data dir>/tools`: provisioned binaries are shared by every run of a checkout. */
export function resolveToolsDir(override: string | undefined, dataDir: string): string {
  return path.resolve(override || path.join(dataDir, 'tools'));
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const RC_VARS = ['RINGCENTRAL_CLIENT_ID', 'RINGCENTRAL_CLIENT_SECRET', 'RINGCENTRAL_JWT'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    throw new ConfigError(`${name} ${issue?.message ?? 'is invalid'}.`);
  }
  const e = parsed.data;
  const present = RC_VARS.filter((k) => e[k] !== undefined);
  if (present.length > 0 && present.length < RC_VARS.length) {
    const missing = RC_VARS.filter((k) => e[k] === undefined);
    throw new ConfigError(
      `RingCentral credentials are incomplete: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing ` +
        `(set all of ${RC_VARS.join(', ')} to use RingCentral, or none to use the simulator).`,
    );
  }
  const ringcentral =
    present.length === RC_VARS.length
      ? Object.freeze({
          serverUrl: e.RINGCENTRAL_SERVER_URL ?? 'https://platform.ringcentral.com',
          clientId: e.RINGCENTRAL_CLIENT_ID!,
          clientSecret: e.RINGCENTRAL_CLIENT_SECRET!,
          jwt: e.RINGCENTRAL_JWT!,
        })
      : undefined;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    dataDir: e.FAXFLOW_DATA_DIR ?? '.faxflow',
    toolsDir: resolveToolsDir(e.FAXFLOW_TOOLS_DIR, e.FAXFLOW_DATA_DIR ?? '.faxflow'),
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: e.TEMPORAL_TASK_QUEUE ?? 'faxflow',
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    temporalTestServerPath: e.TEMPORAL_TEST_SERVER_PATH,
    temporalPort: e.FAXFLOW_TEMPORAL_PORT,
    temporalUiPort: e.FAXFLOW_TEMPORAL_UI_PORT,
    ringcentral,
    deliveryReports: e.RINGCENTRAL_DELIVERY_REPORTS ?? 'auto',
    defaultRegion: e.FAXFLOW_DEFAULT_REGION ?? 'US',
    logLevel: e.LOG_LEVEL ?? 'info',
    publicUrl: e.FAXFLOW_PUBLIC_URL?.replace(/\/+$/, ''),
    apiHost: e.FAXFLOW_API_HOST ?? '127.0.0.1',
    apiPort: e.FAXFLOW_API_PORT ?? 8080,
    metricsHost: e.FAXFLOW_METRICS_HOST ?? '127.0.0.1',
    metricsPort: e.FAXFLOW_METRICS_PORT,
    rateWindowMs: e.FAXFLOW_RATE_WINDOW_MS,
    maxCachedWorkflows: e.FAXFLOW_MAX_CACHED_WORKFLOWS,
    premiumRateTenants: Object.freeze(e.FAXFLOW_PREMIUM_RATE_TENANTS?.split(',') ?? []),
    faxPolicy: e.FAXFLOW_FAX_POLICY && Object.freeze(dropUndefined(e.FAXFLOW_FAX_POLICY)),
    encryptionKeys: e.FAXFLOW_ENCRYPTION_KEY && Object.freeze(e.FAXFLOW_ENCRYPTION_KEY),
    production: e.NODE_ENV === 'production',
    rateBudgets: Object.freeze({
      Heavy: e.RINGCENTRAL_HEAVY_PER_MINUTE ?? 10,
      Medium: e.RINGCENTRAL_MEDIUM_PER_MINUTE ?? 40,
      Light: e.RINGCENTRAL_LIGHT_PER_MINUTE ?? 50,
    }),
  });
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
