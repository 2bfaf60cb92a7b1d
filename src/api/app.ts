import Fastify, { type FastifyInstance, type HTTPMethods } from 'fastify';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import type { Database } from '../db/schema';
import { ApiError, frameworkErrors, installErrorHandling, MAX_PARAM_LENGTH } from './errors';
import type {
  NotificationHandler,
  StoredNotification,
  UnstoredNotification,
} from '../webhooks/stored-notification';
import { installLingeringClose, type LingerBounds } from './lingering-close';
import { faxRoutes, type FaxApiClient } from './plugins/faxes';
import { healthRoutes, type ReadinessCheck } from './plugins/health';
import { installMetrics } from './plugins/metrics';
import { observeWebhookLag } from '../metrics/metrics';
import { ringCentralWebhook } from './plugins/ringcentral-webhook';
import { connectRingCentral, type ConnectRingCentralDeps } from './plugins/connect-ringcentral';
import { apiKeyAuth } from './v1/auth';
import { v1Api, type V1ApiOptions } from './v1/index';
import { installOpenApi } from './v1/openapi';

export type { StoredNotification, NotificationHandler } from '../webhooks/stored-notification';
export type { FaxApiClient } from './plugins/faxes';
export type { ConnectRingCentralDeps } from './plugins/connect-ringcentral';

export interface ApiDeps {
  db: Kysely<Database>;
  faxClient: FaxApiClient;
  /** Receives every stored webhook notification (not awaited by the request); marks `processed_at`. */
  onNotification: NotificationHandler;
  /** Default: silent. Pass the process logger (`createLogger`), whose redaction covers credentials. */
  logger?: Logger;
  /** `GET /ready` checks beside the database's (e.g. `temporal`). */
  readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** The Auth Code + PKCE connect routes (`/connect/ringcentral`); absent: not served. */
  connect?: ConnectRingCentralDeps;
  /** The HTTP API v1 under `/v1` (authenticated); left out when not given. */
  v1?: Omit<V1ApiOptions, 'db'>;
}

export interface ApiOptions {
  /** Webhook body limit in bytes (default 64 KiB). */
  webhookBodyLimit?: number;
  /** `POST /faxes` body limit in bytes (default 70 MiB). */
  faxBodyLimit?: number;
  /**
   * The legacy `POST /faxes` and `GET /faxes/:jobId`: `required` (default) refuses requests without a
   * key, like every `/v1` route, so no client reads another's job by guessing its id; `optional`
   * (tests of the legacy routes) checks a key when one is sent and otherwise runs as the default tenant.
   */
  legacyAuth?: 'required' | 'optional';
  /** Bounds of the lingering close after an error answer to a body still arriving (tests shorten them). */
  lingeringClose?: Partial<LingerBounds>;
}

/** Header names whose values are secrets; redacted wherever a request's headers get logged. */
export const SECRET_HEADERS = ['verification-token', 'validation-token', 'authorization', 'cookie'];

const METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

/**
 * Builds the HTTP API from its plugins: the RingCentral webhook receiver, the fax routes and health.
 * Nothing listens here: `server.ts` owns the process; tests use `app.inject`.
 */
export async function buildApp(deps: ApiDeps, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const logger =
    deps.logger ??
    pino({
      level: 'silent',
      redact: { paths: SECRET_HEADERS.map((h) => `req.headers["${h}"]`), censor: '[redacted]' },
    });
  const app = Fastify({
    loggerInstance: logger,
    // Request logs carry method, url and ids only (Fastify's default serializer), never headers.
    return503OnClosing: true,
    // A path parameter over the limit never reaches a route: frameworkErrors answers it.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
  }) as unknown as FastifyInstance;

  installErrorHandling(app);
  // At the root, before any plugin: every error answer to an unread body goes through it.
  installLingeringClose(app, opts.lingeringClose);

  // Collect every route, then answer wrong methods on known paths with 405 (Fastify says 404).
  const methodsByUrl = new Map<string, Set<string>>();
  let collecting = true;
  app.addHook('onRoute', (route) => {
    if (!collecting) return;
    const set = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) set.add(m.toUpperCase());
    methodsByUrl.set(route.url, set);
  });

  installMetrics(app);
  // Before any route: it collects them. /openapi.json and /docs need no key.
  await installOpenApi(app);
  await app.register(healthRoutes, { db: deps.db, ...(deps.readiness && { checks: deps.readiness }) });
  // Liveness under the name the v1 API documents (the same answer as /health).
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'] } }, async () => ({ ok: true }));
  // Legacy routes (kept for existing clients; new clients use /v1).
  await app.register(async (legacy) => {
    await legacy.register(apiKeyAuth, { db: deps.db, mode: opts.legacyAuth ?? 'required' });
    await legacy.register(faxRoutes, {
      faxClient: deps.faxClient,
      ...(opts.faxBodyLimit !== undefined && { bodyLimit: opts.faxBodyLimit }),
    });
  });
  if (deps.v1) await app.register(v1Api, { prefix: '/v1', db: deps.db, ...deps.v1 });
  await app.register(ringCentralWebhook, {
    db: deps.db,
    // Handed on right after it is stored, or covered by one that was: the lag is RingCentral's
    // timestamp to now.
    onNotification: Object.assign(
      (notification: StoredNotification) => {
        observeWebhookLag(notification.body['timestamp']);
        return deps.onNotification(notification);
      },
      {
        absorb: (notification: UnstoredNotification) => {
          const covered = deps.onNotification.absorb?.(notification) ?? false;
          if (covered) observeWebhookLag(notification.body['timestamp']);
          return covered;
        },
      },
    ),
    ...(opts.webhookBodyLimit !== undefined && { bodyLimit: opts.webhookBodyLimit }),
  });

  if (deps.connect) await app.register(connectRingCentral, { db: deps.db, ...deps.connect });

  collecting = false;
  for (const [url, allowedSet] of methodsByUrl) {
    // Swagger UI's own routes (static files) are left as the plugin made them.
    if (url === '/docs' || url.startsWith('/docs/')) continue;
    if (allowedSet.has('GET')) allowedSet.add('HEAD');
    const allowed = METHODS.filter((m) => allowedSet.has(m));
    const others = METHODS.filter((m) => !allowedSet.has(m));
    if (others.length === 0) continue;
    app.route({
      method: others,
      url,
      schema: { hide: true },
      // onRequest runs before any body is read: a wrong method costs nothing.
      onRequest: async (request) => {
        throw new ApiError(
          405,
          'METHOD_NOT_ALLOWED',
          `${request.method} is not allowed on ${url}; use ${allowed.join(' or ')}.`,
          { allow: allowed.join(', ') },
        );
      },
      handler: async () => undefined,
    });
  }

  await app.ready();
  return app;
}
