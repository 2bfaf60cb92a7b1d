import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifySchema } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { V1_EVENT_TYPES, type V1Page } from '../contracts/v1-api';
import type { Database, WebhookDelivery, WebhookEndpoint } from '../db/schema';
import type { SecretCipher } from '../db/webhook-endpoint-secrets';
import {
  deleteWebhookEndpoint,
  enableWebhookEndpoint,
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  rotateWebhookSecret,
  SECRET_ROTATION_OVERLAP_MS,
} from '../db/webhook-endpoints';
import { requireTenant, sendV1Error } from './tenant-of';
import type { V1WebhookDelivery, V1WebhookEndpoint, V1WebhookEndpointWithSecret } from '../contracts/v1-api';

export type { V1WebhookDelivery, V1WebhookEndpoint, V1WebhookEndpointWithSecret } from '../contracts/v1-api';

export interface WebhookEndpointRoutesOptions {
  db: Kysely<Database>;
  /** Seals signing secrets at rest: the processes' FAXFLOW_ENCRYPTION_KEY (connections/token-cipher.ts). */
  cipher: SecretCipher;
  /** Most endpoints per tenant. Default 20. */
  maxEndpointsPerTenant?: number;
}

export const WEBHOOK_ENDPOINT_ERROR_CODES = [
  'VALIDATION_FAILED',
  'WEBHOOK_ENDPOINT_NOT_FOUND',
  'WEBHOOK_ENDPOINT_LIMIT',
  'UNAUTHENTICATED',
] as const;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const urlSchema = z
  .string()
  .max(2048, 'url is longer than 2048 characters')
  .superRefine((u, ctx) => {
    const p = URL.canParse(u) ? new URL(u) : undefined;
    const problem = !p
      ? 'url is not an absolute URL'
      : !(p.protocol === 'https:' || (p.protocol === 'http:' && LOOPBACK.has(p.hostname)))
        ? 'url must be https (plain http only to localhost)'
        : p.username !== '' || p.password !== ''
          ? 'url must not carry credentials'
          : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const createBody = z
  .object({
    url: urlSchema,
    events: z
      .array(z.enum(V1_EVENT_TYPES))
      .min(1, 'events needs at least one event type')
      .max(V1_EVENT_TYPES.length)
      .refine((e) => new Set(e).size === e.length, 'events lists a type twice'),
    description: z.string().max(200).optional(),
  })
  .strict();

const idParams = z.object({ id: z.string().regex(/^we_[0-9a-f]{24}$/) });
const deliveriesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .regex(/^[0-9]{1,18}$/)
      .optional(),
  })
  .strict();

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function newEndpointId(): string {
  return `we_${randomBytes(12).toString('hex')}`;
}

export function toV1WebhookEndpoint(e: WebhookEndpoint): V1WebhookEndpoint {
  return {
    object: 'webhook_endpoint',
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    status: e.status,
    disabledReason: e.disabled_reason,
    disabledAt: e.disabled_at?.toISOString() ?? null,
    failingSince: e.first_failure_at?.toISOString() ?? null,
    previousSecretExpiresAt:
      e.previous_secret_expires_at && e.previous_secret_expires_at > new Date()
        ? e.previous_secret_expires_at.toISOString()
        : null,
    createdAt: e.created_at.toISOString(),
  };
}

function toV1Delivery(d: WebhookDelivery): V1WebhookDelivery {
  return {
    id: d.id,
    eventId: d.event_id,
    eventType: d.event_type,
    attempt: d.attempt,
    statusCode: d.status_code,
    error: d.error,
    durationMs: d.duration_ms,
    at: d.at.toISOString(),
  };
}

function issues(err: z.ZodError): { message: string; details: Record<string, unknown> } {
  const first = err.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return {
    message: `${where}${first?.message ?? 'invalid request'}.`,
    details: { issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  };
}

const endpointJsonSchema = {
  type: 'object',
  properties: {
    url: { type: 'string', format: 'uri', maxLength: 2048 },
    events: { type: 'array', items: { type: 'string', enum: [...V1_EVENT_TYPES] }, minItems: 1 },
    description: { type: 'string', maxLength: 200 },
  },
  required: ['url', 'events'],
  additionalProperties: false,
} as const;

/**
 * `/v1/webhook-endpoints`: a tenant's endpoints for signed event webhooks. A standalone plugin:
 * the /v1 app registers it behind its authentication (which sets `request.tenant`). Another
 * tenant's endpoint is a 404 like one that does not exist.
 */
export const webhookEndpointRoutes: FastifyPluginAsync<WebhookEndpointRoutesOptions> = async (
  app: FastifyInstance,
  opts,
) => {
  const { db, cipher } = opts;
  const max = opts.maxEndpointsPerTenant ?? 20;
  // For the OpenAPI document (@fastify/swagger reads tags and summary).
  const doc = (summary: string, extra: FastifySchema = {}): FastifySchema =>
    ({ tags: ['webhook-endpoints'], summary, ...extra }) as FastifySchema;
  const notFound = (reply: Parameters<typeof sendV1Error>[0], id: string) =>
    sendV1Error(
      reply,
      404,
      'WEBHOOK_ENDPOINT_NOT_FOUND',
      `There is no webhook endpoint ${JSON.stringify(id)}.`,
    );
  const parseId = (params: unknown): string | undefined => {
    const p = idParams.safeParse(params);
    return p.success ? p.data.id : undefined;
  };

  app.post(
    '/webhook-endpoints',
    {
      schema: doc('Register an endpoint for signed event webhooks', { body: endpointJsonSchema }),
      // The schema documents the body (OpenAPI); zod validates it untouched (Fastify's ajv would
      // coerce types and strip unknown fields before we could refuse them).
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const parsed = createBody.safeParse(request.body);
      if (!parsed.success) {
        const { message, details } = issues(parsed.error);
        return sendV1Error(reply, 400, 'VALIDATION_FAILED', message, details);
      }
      if ((await listWebhookEndpoints(db, tenantId)).length >= max) {
        return sendV1Error(
          reply,
          409,
          'WEBHOOK_ENDPOINT_LIMIT',
          `A tenant may have at most ${max} webhook endpoints; delete one first.`,
        );
      }
      const secret = newWebhookSecret();
      const row = await insertWebhookEndpoint(db, cipher, {
        id: newEndpointId(),
        tenantId,
        url: parsed.data.url,
        events: parsed.data.events,
        description: parsed.data.description ?? null,
        secret,
      });
      const body: V1WebhookEndpointWithSecret = { ...toV1WebhookEndpoint(row), secret };
      return reply.code(201).send(body);
    },
  );

  app.get(
    '/webhook-endpoints',
    { schema: doc("List the tenant's webhook endpoints") },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const page: V1Page<V1WebhookEndpoint> = {
        data: (await listWebhookEndpoints(db, tenantId)).map(toV1WebhookEndpoint),
        nextCursor: null,
      };
      return page;
    },
  );

  app.get('/webhook-endpoints/:id', { schema: doc('One webhook endpoint') }, async (request, reply) => {
    const tenantId = requireTenant(request, reply);
    if (tenantId === undefined) return reply;
    const id = parseId(request.params);
    const row = id && (await findWebhookEndpoint(db, tenantId, id));
    if (!row) return notFound(reply, (request.params as { id: string }).id);
    return toV1WebhookEndpoint(row);
  });

  app.delete(
    '/webhook-endpoints/:id',
    { schema: doc('Delete a webhook endpoint (pending deliveries stop)') },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const id = parseId(request.params);
      if (!id || !(await deleteWebhookEndpoint(db, tenantId, id))) {
        return notFound(reply, (request.params as { id: string }).id);
      }
      return reply.code(204).send();
    },
  );

  app.post(
    '/webhook-endpoints/:id/rotate-secret',
    { schema: doc('New signing secret; the old one keeps signing for 24 h') },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const id = parseId(request.params);
      const secret = newWebhookSecret();
      const row =
        id && (await rotateWebhookSecret(db, cipher, tenantId, id, secret, SECRET_ROTATION_OVERLAP_MS));
      if (!row) return notFound(reply, (request.params as { id: string }).id);
      const body: V1WebhookEndpointWithSecret = { ...toV1WebhookEndpoint(row), secret };
      return body;
    },
  );

  app.post(
    '/webhook-endpoints/:id/enable',
    { schema: doc('Turn a disabled endpoint back on (events raised while it was off are not sent)') },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const id = parseId(request.params);
      const row = id && (await enableWebhookEndpoint(db, tenantId, id));
      if (!row) return notFound(reply, (request.params as { id: string }).id);
      return toV1WebhookEndpoint(row);
    },
  );

  app.get(
    '/webhook-endpoints/:id/deliveries',
    { schema: doc('Delivery attempts to this endpoint, newest first') },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const id = parseId(request.params);
      const row = id && (await findWebhookEndpoint(db, tenantId, id));
      if (!row) return notFound(reply, (request.params as { id: string }).id);
      const q = deliveriesQuery.safeParse(request.query);
      if (!q.success) {
        const { message, details } = issues(q.error);
        return sendV1Error(reply, 400, 'VALIDATION_FAILED', message, details);
      }
      const rows = await listWebhookDeliveries(db, row.id, {
        limit: q.data.limit + 1,
        ...(q.data.cursor !== undefined && { beforeId: q.data.cursor }),
      });
      const data = rows.slice(0, q.data.limit).map(toV1Delivery);
      const page: V1Page<V1WebhookDelivery> = {
        data,
        nextCursor: rows.length > q.data.limit ? (data[data.length - 1]?.id ?? null) : null,
      };
      return page;
    },
  );
};
