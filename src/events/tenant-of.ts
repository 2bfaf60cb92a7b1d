import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The authenticated tenant, set by the /v1 auth hook (src/api/v1) as `request.tenant`. Read
 * through this accessor rather than a second `declare module 'fastify'` so the two plugins merge
 * without conflicting declarations.
 */
export function tenantIdOf(request: FastifyRequest): string | undefined {
  const tenant = (request as unknown as { tenant?: { id?: unknown } }).tenant;
  return typeof tenant?.id === 'string' ? tenant.id : undefined;
}

/** `{"error":{"code","message","details"}}`, the v1 error shape. */
export function sendV1Error(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): FastifyReply {
  return reply.code(status).send({ error: { code, message, ...(details && { details }) } });
}

/** Answers 401 when no auth hook ran (a plugin registered outside /v1's authentication). */
export function requireTenant(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const id = tenantIdOf(request);
  if (id === undefined) {
    void sendV1Error(
      reply,
      401,
      'UNAUTHENTICATED',
      'This route needs an API key (Authorization: Bearer fxf_...).',
    );
  }
  return id;
}
