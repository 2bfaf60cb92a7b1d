import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '../../db/schema';
import { MAX_TOTAL_BYTES } from '../../validation/limits';
import { ApiError } from '../errors';
import { apiKeyAuth } from './auth';
import { v1DocumentRoutes } from './documents';
import { FORM_OVERHEAD_BYTES, v1FaxRoutes, type V1FaxClient } from './faxes';
import { MAX_DOCUMENTS } from './schemas';
import type { WorkflowControl } from './workflow-control';

export type { RequestTenant } from './auth';
export { apiKeyAuth, tenantOf } from './auth';
export { loadV1Fax, toV1Fax } from './fax-view';
export type { V1FaxClient } from './faxes';
export type { WorkflowControl } from './workflow-control';
export { temporalWorkflowControl } from './workflow-control';

/** JSON submissions (base64 documents) are for small faxes; large ones go multipart. */
export const DEFAULT_V1_JSON_BODY_LIMIT = 10 * 1024 * 1024;

export interface V1RateLimit {
  /** Requests per key per window (default 600). */
  max: number;
  /** Window in ms (default 60 000). */
  timeWindowMs: number;
}

export interface V1ApiOptions {
  db: Db;
  faxClient: V1FaxClient;
  /** Folder of the local document store (uploads are streamed into it). */
  documentsRoot: string;
  control: WorkflowControl;
  defaultRegion?: string;
  premiumRateTenants?: readonly string[];
  jsonBodyLimit?: number;
  rateLimit?: V1RateLimit;
  /** More v1 route plugins (webhook endpoints, report.pdf...), registered inside the authenticated scope. */
  extraRoutes?: FastifyPluginAsync[];
}

/**
 * The HTTP API v1, registered under `/v1`: every route in it (and in `extraRoutes`) needs an API key
 * (`request.tenant` is set), is rate-limited per key, and answers errors as
 * `{"error": {"code", "message", "details"}}` through the app's one error handler. Request bodies are
 * validated by zod in the handlers (for the house's one-sentence messages); the route schemas are for
 * the OpenAPI document only.
 */
export const v1Api: FastifyPluginAsync<V1ApiOptions> = async (app, opts) => {
  // Schemas document; zod validates (in the handlers) and responses are plain JSON.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeContentTypeParser('text/plain');

  // Every v1 route is documented as needing the bearer key.
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    route.schema = { ...schema, security: [{ apiKey: [] }] };
  });

  await app.register(apiKeyAuth, { db: opts.db, mode: 'required' });
  const limit = opts.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
  // In memory, per process: with N API processes a key gets up to N times the limit.
  await app.register(rateLimit, {
    global: true,
    max: limit.max,
    timeWindow: limit.timeWindowMs,
    keyGenerator: (request) => `key:${request.tenant.apiKeyId}`,
    errorResponseBuilder: (_request, ctx) =>
      new ApiError(
        429,
        'RATE_LIMITED',
        `This API key made more than ${ctx.max} requests in ${Math.round(limit.timeWindowMs / 1000)} s; retry in ${Math.ceil(ctx.ttl / 1000)} s.`,
        { 'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))) },
        { limit: ctx.max, windowSeconds: Math.round(limit.timeWindowMs / 1000) },
      ),
  });
  await app.register(multipart, {
    limits: {
      // A backstop only: the stager stops a stream at the documents' limit itself (and closes the
      // connection), which this higher limit leaves it to do.
      fileSize: MAX_TOTAL_BYTES + FORM_OVERHEAD_BYTES,
      files: MAX_DOCUMENTS,
      fields: 1100,
      fieldSize: 64 * 1024,
      parts: 1200,
      headerPairs: 100,
    },
  });

  const routeOpts = {
    db: opts.db,
    faxClient: opts.faxClient,
    documentsRoot: opts.documentsRoot,
    control: opts.control,
    defaultRegion: opts.defaultRegion ?? 'US',
    premiumRateTenants: opts.premiumRateTenants ?? [],
    jsonBodyLimit: opts.jsonBodyLimit ?? DEFAULT_V1_JSON_BODY_LIMIT,
  };
  await app.register(v1FaxRoutes, routeOpts);
  await app.register(v1DocumentRoutes, { db: opts.db, documentsRoot: opts.documentsRoot });
  for (const extra of opts.extraRoutes ?? []) await app.register(extra);
};
