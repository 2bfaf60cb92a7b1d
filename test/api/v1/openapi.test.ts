import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V1_ERROR_CODES } from '../../../src/api/v1/error-codes';
import type { DatabaseHandle } from '../../../src/db/connection';
import { testDatabase } from '../../support/database';
import { makeV1App } from './helpers';

let database: DatabaseHandle;
let app: FastifyInstance;

beforeAll(async () => {
  database = testDatabase();
  ({ app } = await makeV1App(database.db));
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** `/v1/faxes/:id` → `/v1/faxes/{id}`, as OpenAPI writes paths. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, served without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('has every /v1 route with its methods, each requiring the bearer key', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const routes: { method: string; url: string }[] = [];
    // Ask Fastify for the routes it has (not a list kept by hand).
    const app2 = app as FastifyInstance & { hasRoute: FastifyInstance['hasRoute'] };
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops)) routes.push({ method: m.toUpperCase(), url: p });
    }
    const expected = [
      ['POST', '/v1/faxes'],
      ['GET', '/v1/faxes'],
      ['GET', '/v1/faxes/:id'],
      ['POST', '/v1/faxes/:id/cancel'],
      ['POST', '/v1/faxes/:id/reschedule'],
      ['GET', '/v1/faxes/:id/events'],
      ['GET', '/v1/broadcasts/:id'],
      ['POST', '/v1/documents'],
    ] as const;
    for (const [method, url] of expected) {
      expect(app2.hasRoute({ method, url }), `${method} ${url} is served`).toBe(true);
      const op = doc.paths[openApiPath(url)]?.[method.toLowerCase()];
      expect(op, `${method} ${url} is documented`).toBeDefined();
      expect(op?.security).toEqual([{ apiKey: [] }]);
    }
    // And nothing under /v1 is served without being documented.
    const documentedV1 = routes.filter((r) => r.url.startsWith('/v1/'));
    expect(documentedV1.length).toBe(expected.length);
  });

  it('lists every error code, and every code the API code can answer with is in that list', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      components: { schemas: Record<string, { enum?: string[] }> };
      info: { description: string };
    };
    const listed = doc.components.schemas['ErrorCode']?.enum ?? [];
    expect(new Set(listed)).toEqual(new Set(Object.keys(V1_ERROR_CODES)));
    for (const code of Object.keys(V1_ERROR_CODES)) expect(doc.info.description).toContain(`\`${code}\``);

    // Codes written in the API's sources: new ApiError(status, 'CODE', ...) and FaxValidationError('CODE', ...).
    const used = new Set<string>();
    // The RingCentral webhook receiver's codes are not part of v1 (RingCentral is its only client).
    const files = [
      ...(await sourceFiles('src/api')).filter((f) => !f.endsWith('ringcentral-webhook.ts')),
      'src/validation/validation-error.ts',
      'src/client/fax-client.ts',
    ];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/ApiError\(\s*\d{3},\s*'([A-Z_]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/FaxValidationError\(\s*'([A-Z_]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\|\s*'([A-Z_]+)'/g))
        if (file.endsWith('validation-error.ts')) used.add(m[1]!);
    }
    // The webhook receiver's codes are not part of v1 (RingCentral is its only client).
    const webhookOnly = new Set([
      'UNKNOWN_SUBSCRIPTION',
      'INVALID_VERIFICATION_TOKEN',
      'STORE_UNAVAILABLE',
      'INVALID_NOTIFICATION',
    ]);
    const missing = [...used].filter((c) => !(c in V1_ERROR_CODES) && !webhookOnly.has(c));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(15);
  });

  it('documents the multipart uploads with their own form schemas (files as binary parts)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }
        >
      >;
    };
    const fax = doc.paths['/v1/faxes']!['post']!.requestBody.content;
    expect(Object.keys(fax).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(fax['multipart/form-data']!.schema.properties['file']).toMatchObject({ type: 'array' });
    expect(fax['application/json']!.schema.properties['documents']).toMatchObject({ type: 'array' });
    const upload = doc.paths['/v1/documents']!['post']!.requestBody.content;
    expect(Object.keys(upload)).toEqual(['multipart/form-data']);
  });

  it('serves the docs page from local files (no CDN)', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    const html =
      page.statusCode === 200
        ? page.body
        : (await app.inject({ method: 'GET', url: '/docs/static/index.html' })).body;
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)[a-z0-9.-]+\/[^"']*\.(js|css)/i);
  });
});
