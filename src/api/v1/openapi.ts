import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { V1_ERROR_CODES } from './error-codes';
import { broadcastSchema, documentSchema, errorBodySchema, eventSchema, faxSchema } from './schemas';

const ERROR_TABLE = Object.entries(V1_ERROR_CODES)
  .map(([code, [status, meaning]]) => `| \`${code}\` | ${status} | ${meaning} |`)
  .join('\n');

/**
 * OpenAPI 3.1 from the route schemas (@fastify/swagger), served at `/openapi.json`, and Swagger UI at
 * `/docs` from the package's own files (no CDN: it works offline). Registered before any route.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of [errorBodySchema, faxSchema, broadcastSchema, eventSchema, documentSchema]) {
    app.addSchema(schema);
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'faxflow HTTP API',
        version: '1.0.0',
        description: `Durable fax sending through RingCentral. Authenticate with \`Authorization: Bearer fxf_...\` (faxflow api-keys create). Errors are \`{"error": {"code", "message", "details"}}\`:\n\n| code | status | meaning |\n| --- | --- | --- |\n${ERROR_TABLE}`,
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: fxf_ and 43 characters.' },
        },
        schemas: {
          ErrorCode: {
            type: 'string',
            enum: Object.keys(V1_ERROR_CODES),
            description: 'Every error code of the API.',
          },
        },
      },
      tags: [
        { name: 'faxes', description: 'Send, follow, cancel and reschedule faxes' },
        { name: 'broadcasts', description: 'One document set to many recipients' },
        { name: 'documents', description: 'Documents uploaded ahead of faxes' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false } });
}
