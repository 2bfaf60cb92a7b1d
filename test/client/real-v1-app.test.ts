import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createFaxflowClient, FaxflowApiError } from '../../src/client/http';
import type { DatabaseHandle } from '../../src/db/connection';
import { v1EventRoutes } from '../../src/events/v1-routes';
import { makeSamplePdf } from '../../src/pdf/sample-document';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { makeV1App, tenantWithKey, type V1TestApp } from '../api/v1/helpers';
import { tempDir, testCipher, testDatabase } from '../support/database';

/**
 * faxflow/client against the real v1 routes (API keys, multipart upload, errors, webhook
 * endpoints), with the fake Temporal-side client the v1 route tests use.
 */
let database: DatabaseHandle;
let v1: V1TestApp;
let app: FastifyInstance;
let url: string;
beforeAll(async () => {
  database = testDatabase();
  const documents = createLocalDocumentStore(await tempDir());
  v1 = await makeV1App(database.db, {
    extraRoutes: [v1EventRoutes({ db: database.db, documents, cipher: testCipher })],
  });
  app = v1.app;
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

describe('faxflow/client against the real v1 app', () => {
  it('uploads as multipart, replays an idempotency key, maps errors, manages webhook endpoints', async () => {
    const { key } = await tenantWithKey(database.db, 'cl');
    const client = createFaxflowClient({ baseUrl: url, apiKey: key });
    const pdf = await makeSamplePdf(1);
    const input = {
      to: '+12025550123',
      files: [{ data: pdf, filename: 'letter.pdf' }],
      idempotencyKey: 'inv-4711',
      metadata: { claim: 'C-1' },
    };
    const sent = await client.sendFax(input);
    expect(sent.replayed).toBe(false);
    expect(sent.faxes[0]).toMatchObject({ object: 'fax', id: 'inv-4711', to: '+12025550123' });
    expect(sent.faxes[0]!.metadata).toEqual({ claim: 'C-1' });
    expect(v1.faxClient.faxes.at(-1)).toMatchObject({ idempotencyKey: 'inv-4711' });
    const again = await client.sendFax({ ...input, files: [{ data: pdf, filename: 'letter.pdf' }] });
    expect(again.replayed).toBe(true);

    const missing = await client.getFax('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FaxflowApiError);
    expect((missing as FaxflowApiError).status).toBe(404);
    const bad = await createFaxflowClient({ baseUrl: url, apiKey: 'fxf_wrong' })
      .listWebhookEndpoints()
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 401 });

    const ep = await client.createWebhookEndpoint({
      url: 'https://ehr.example.com/hook',
      events: ['fax.delivered'],
    });
    expect(ep.secret).toMatch(/^whsec_/);
    expect((await client.listWebhookEndpoints()).map((e) => e.id)).toEqual([ep.id]);
    const rotated = await client.rotateWebhookSecret(ep.id);
    expect(rotated.secret).not.toBe(ep.secret);
    await client.deleteWebhookEndpoint(ep.id);
    expect(await client.listWebhookEndpoints()).toEqual([]);
  });
});
