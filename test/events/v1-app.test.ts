import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { v1EventRoutes } from '../../src/events/v1-routes';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { auth, makeV1App, tenantWithKey } from '../api/v1/helpers';
import { tempDir, testCipher, testDatabase } from '../support/database';

/** The event routes inside the real v1 API: its API-key auth, its errors, its OpenAPI document. */
let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('event routes in the v1 API', () => {
  it('serve under /v1 behind the API key, isolate tenants, and appear in /openapi.json', async () => {
    const documents = createLocalDocumentStore(await tempDir());
    const { app } = await makeV1App(database.db, {
      extraRoutes: [v1EventRoutes({ db: database.db, documents, cipher: testCipher })],
    });
    const a = await tenantWithKey(database.db, 'ev');
    const b = await tenantWithKey(database.db, 'ev');

    expect((await app.inject({ url: '/v1/webhook-endpoints' })).statusCode).toBe(401);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: auth(a.key),
      payload: { url: 'https://ehr.example.com/hook', events: ['fax.delivered'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect((await app.inject({ url: `/v1/webhook-endpoints/${id}`, headers: auth(a.key) })).statusCode).toBe(
      200,
    );
    const other = await app.inject({ url: `/v1/webhook-endpoints/${id}`, headers: auth(b.key) });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ error: { code: 'WEBHOOK_ENDPOINT_NOT_FOUND' } });
    const report = await app.inject({ url: '/v1/faxes/nope/report.pdf', headers: auth(a.key) });
    expect(report.statusCode).toBe(404);
    expect(report.json()).toMatchObject({ error: { code: 'FAX_NOT_FOUND' } });

    const doc = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    for (const path of [
      '/v1/webhook-endpoints',
      '/v1/webhook-endpoints/{id}',
      '/v1/webhook-endpoints/{id}/rotate-secret',
      '/v1/webhook-endpoints/{id}/enable',
      '/v1/webhook-endpoints/{id}/deliveries',
      '/v1/faxes/{id}/report.pdf',
    ]) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
  });
});
