import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  API_KEY_PATTERN,
  findApiKeyByHash,
  hashApiKey,
  LAST_USED_RESOLUTION_MS,
  touchApiKey,
} from '../../db/api-keys';
import type { Db } from '../../db/schema';
import { DEFAULT_TENANT_ID } from '../../db/tenants';
import { ApiError, singleHeader } from '../errors';

/** Who is calling: the tenant of the API key that authenticated the request. */
export interface RequestTenant {
  id: string;
  apiKeyId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set by `apiKeyAuth` on every route registered in its scope (every `/v1` route): the caller's
     * tenant. Filter every query by `request.tenant.id`.
     */
    tenant: RequestTenant;
  }
}

export interface ApiKeyAuthOptions {
  db: Db;
  /**
   * `required` (default): a request without a valid key is refused with 401. `optional`: a request
   * without an `Authorization` header runs as the default tenant (the legacy `/faxes` routes).
   */
  mode?: 'required' | 'optional';
}

const WWW_AUTHENTICATE = { 'www-authenticate': 'Bearer realm="faxflow"' };

function unauthenticated(code: string, message: string): ApiError {
  return new ApiError(401, code, message, WWW_AUTHENTICATE);
}

/** The bearer token of a request, or undefined when it has no Authorization header. */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const value = singleHeader(header);
  const match = value === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(value);
  if (!match?.[1]) {
    throw unauthenticated(
      'INVALID_API_KEY',
      'The Authorization header is malformed; send "Authorization: Bearer fxf_..." with an API key.',
    );
  }
  return match[1];
}

/**
 * Authenticates `Authorization: Bearer fxf_...` on every route of the scope it is registered in
 * (fastify-plugin: the hook applies to the registering scope) and sets `request.tenant`. Runs at
 * `onRequest`, before any body is read, so an unauthenticated upload costs nothing. Keys are looked up
 * by their SHA-256 (the clear key never reaches the database or a log); the last-used time is
 * written at most once a minute per key.
 */
const authPlugin: FastifyPluginAsync<ApiKeyAuthOptions> = async (app, opts) => {
  const mode = opts.mode ?? 'required';
  if (!app.hasRequestDecorator('tenant')) app.decorateRequest('tenant', null as unknown as RequestTenant);

  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    if (token === undefined) {
      if (mode === 'optional') {
        request.tenant = { id: DEFAULT_TENANT_ID, apiKeyId: '' };
        return;
      }
      throw unauthenticated(
        'UNAUTHENTICATED',
        'This route needs an API key; send "Authorization: Bearer fxf_..." (create one with faxflow api-keys create).',
      );
    }
    if (!API_KEY_PATTERN.test(token)) {
      throw unauthenticated(
        'INVALID_API_KEY',
        'The API key is malformed; faxflow keys look like fxf_ and 43 characters.',
      );
    }
    const owner = await findApiKeyByHash(opts.db, hashApiKey(token));
    if (!owner || owner.revoked) {
      throw unauthenticated(
        'INVALID_API_KEY',
        'The API key is unknown or revoked; create a new one with faxflow api-keys create.',
      );
    }
    if (owner.tenantDisabled) {
      throw new ApiError(
        403,
        'TENANT_DISABLED',
        `The tenant of this API key is disabled; ask the operator to enable it.`,
      );
    }
    request.tenant = { id: owner.tenantId, apiKeyId: owner.apiKeyId };
    const now = Date.now();
    if (owner.lastUsedAt === null || now - owner.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      // Bookkeeping, not worth failing the request over.
      touchApiKey(opts.db, owner.apiKeyId, new Date(now)).catch((err: unknown) =>
        request.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'could not record API key use',
        ),
      );
    }
  });
};

export const apiKeyAuth = fp(authPlugin, { name: 'faxflow-api-key-auth', fastify: '5.x' });

/** The caller's tenant; throws when the route is outside the authenticated scope (a wiring bug). */
export function tenantOf(request: FastifyRequest): RequestTenant {
  // null outside the authenticated scope
  if (!request.tenant) throw new Error(`${request.method} ${request.url} is outside the authenticated scope`);
  return request.tenant;
}
