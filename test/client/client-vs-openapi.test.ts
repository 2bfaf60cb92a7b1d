import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Fax } from '../../src/contracts/v1-api';
import type { DatabaseHandle } from '../../src/db/connection';
import { v1EventRoutes } from '../../src/events/v1-routes';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { makeV1App } from '../api/v1/helpers';
import { tempDir, testCipher, testDatabase } from '../support/database';

/**
 * faxflow/client is hand-written against src/contracts/v1-api.ts; this checks both against the
 * OpenAPI document the routes generate: every call the client makes is a documented operation, and
 * the fax the client's types describe has exactly the fields the document gives `GET /v1/faxes/{id}`.
 */
const CLIENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/client/http/client.ts');

/** Every field of V1Fax, once: TypeScript refuses this object if one is missing or extra. */
const V1_FAX_FIELDS: Record<keyof V1Fax, true> = {
  object: true,
  id: true,
  tenantId: true,
  broadcastId: true,
  status: true,
  final: true,
  to: true,
  recipientName: true,
  pages: true,
  documents: true,
  attempts: true,
  nextAction: true,
  sendAt: true,
  error: true,
  metadata: true,
  createdAt: true,
  updatedAt: true,
  completedAt: true,
  links: true,
};

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components?: { schemas?: Record<string, unknown> };
}

let database: DatabaseHandle;
let app: FastifyInstance;
let doc: OpenApiDoc;
beforeAll(async () => {
  database = testDatabase();
  const documents = createLocalDocumentStore(await tempDir());
  ({ app } = await makeV1App(database.db, {
    extraRoutes: [v1EventRoutes({ db: database.db, documents, cipher: testCipher })],
  }));
  doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

/** Follows `$ref`s inside the document. */
function resolve(node: unknown): Record<string, unknown> {
  let n = node as Record<string, unknown>;
  while (typeof n.$ref === 'string') {
    const name = n.$ref.split('/').pop()!;
    n = doc.components?.schemas?.[name] as Record<string, unknown>;
  }
  return n;
}

describe('faxflow/client against the OpenAPI document', () => {
  it('calls only documented operations, with their methods', async () => {
    const source = await readFile(CLIENT, 'utf8');
    const calls = [
      ...source.matchAll(/'(GET|POST|DELETE|PUT|PATCH)',\s*[`'](\/v1[^`'?$]*(?:\$\{[^}]+\}[^`'?$]*)*)/g),
    ].map((m) => ({
      method: m[1]!.toLowerCase(),
      path: m[2]!.replace(/\$\{enc\((\w+)\)\}/g, '{$1}').replace(/\$\{[^}]+\}$/, ''),
    }));
    expect(calls.length).toBeGreaterThanOrEqual(12);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m} ${p.replace(/\{[^}]+\}/g, '{id}')}`),
    );
    for (const call of calls) {
      expect(documented, `${call.method.toUpperCase()} ${call.path}`).toContain(
        `${call.method} ${call.path.replace(/\{[^}]+\}/g, '{id}')}`,
      );
    }
  });

  it("describes GET /v1/faxes/{id}'s answer with exactly V1Fax's fields", () => {
    const op = Object.entries(doc.paths).find(([p]) => /^\/v1\/faxes\/\{[^}]+\}$/.test(p))?.[1]['get'];
    expect(op, 'GET /v1/faxes/{id} is documented').toBeDefined();
    const ok = resolve(op!.responses?.['200']) as { content?: Record<string, { schema?: unknown }> };
    const schema = resolve(ok.content?.['application/json']?.schema);
    expect(Object.keys((schema.properties as object | undefined) ?? {}).sort()).toEqual(
      Object.keys(V1_FAX_FIELDS).sort(),
    );
  });
});
