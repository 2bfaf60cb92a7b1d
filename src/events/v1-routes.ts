import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { SecretCipher } from '../db/webhook-endpoint-secrets';
import type { DocumentStore } from '../storage/document-store';
import { reportRoute } from './report-route';
import { webhookEndpointRoutes } from './webhook-endpoints-routes';

/**
 * The v1 routes of this folder (`/webhook-endpoints...`, `/faxes/:id/report.pdf`), for the v1 API's
 * `extraRoutes`: registered inside its `/v1` prefix, behind its API-key authentication.
 */
export function v1EventRoutes(deps: {
  db: Kysely<Database>;
  documents: DocumentStore;
  /** Seals webhook signing secrets (the workers' key ring: they open them to sign). */
  cipher: SecretCipher;
}): FastifyPluginAsync {
  return async (app) => {
    await app.register(webhookEndpointRoutes, { db: deps.db, cipher: deps.cipher });
    await app.register(reportRoute, { db: deps.db, documents: deps.documents });
  };
}
