import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { V1_ERROR_CODES } from './error-codes';
import { broadcastSchema, documentSchema, errorBodySchema, eventSchema, faxSchema } from './schemas';

const upload = { type: 'string', contentMediaType: 'application/octet-stream' };
const jsonField = (description: string) => ({
  type: 'string',
  contentMediaType: 'application/json',
  description,
});

/** `POST /v1/faxes` as multipart/form-data: the JSON body's fields as form fields, files as parts. */
const faxFormSchema = {
  type: 'object',
  required: ['to'],
  properties: {
    to: {
      description: 'Repeat the field for a broadcast (one fax per recipient).',
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    file: { description: 'The documents, in order (`documents` works too).', type: 'array', items: upload },
    documents: { type: 'array', items: upload },
    documentIds: { type: 'array', items: { type: 'string', pattern: '^doc_[0-9a-f]{24}$' } },
    recipientName: { type: 'string', maxLength: 128 },
    coverPageText: { type: 'string', maxLength: 1024 },
    coverIndex: { type: 'integer', minimum: 0, maximum: 13 },
    coverPage: jsonField('JSON object {from, note, confidential}.'),
    resolution: { type: 'string', enum: ['High', 'Low'] },
    sendAt: { type: 'string', format: 'date-time' },
    schedule: { type: 'string', enum: ['timer', 'ringcentral'] },
    metadata: jsonField('JSON object of up to 20 string values.'),
  },
};

const documentFormSchema = { type: 'object', required: ['file'], properties: { file: upload } };

type Operation = { requestBody?: { content?: Record<string, { schema?: unknown }> } };

/** The form schemas in place of the JSON one @fastify/swagger repeats for multipart/form-data. */
function withFormSchemas<T>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  const fax = paths['/v1/faxes']?.['post']?.requestBody?.content;
  if (fax) fax['multipart/form-data'] = { schema: faxFormSchema };
  const documents = paths['/v1/documents']?.['post'];
  if (documents)
    documents.requestBody = { content: { 'multipart/form-data': { schema: documentFormSchema } } };
  return doc;
}

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
    transformObject: (documentObject) =>
      withFormSchemas(
        'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject,
      ),
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false } });
}
