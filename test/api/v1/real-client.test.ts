import { createHash, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../../src/api/app';
import { temporalWorkflowControl } from '../../../src/api/v1/index';
import { createFaxClient } from '../../../src/client/fax-client';
import type { V1Fax } from '../../../src/contracts/v1-api';
import type { FaxWorkflowInput } from '../../../src/contracts/workflow-types';
import type { DatabaseHandle } from '../../../src/db/connection';
import { createLocalDocumentStore } from '../../../src/storage/local-document-store';
import { tempDir, testDatabase } from '../../support/database';
import { makeSamplePdf } from '../../support/pdf-fixtures';
import { FakeFaxClient, NotificationRecorder } from '../helpers';
import { auth, form, tenantWithKey } from './helpers';

/** The v1 routes with the real fax client on the Temporal dev server (no worker: starts only). */
let database: DatabaseHandle;
let connection: Connection;
let client: Client;
let app: FastifyInstance;
let documentsRoot: string;

beforeAll(async () => {
  database = testDatabase();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  documentsRoot = await tempDir('faxflow-v1-real-');
  const faxClient = createFaxClient({
    client,
    documents: createLocalDocumentStore(documentsRoot),
    taskQueue: `v1-real-${randomUUID()}`,
    defaultRegion: 'US',
    // Every tenant of this test has connected one RingCentral user (no worker sends anything here).
    resolveConnection: async () => 'conn-real',
  });
  app = await buildApp({
    db: database.db,
    faxClient: new FakeFaxClient(),
    onNotification: new NotificationRecorder().handler,
    v1: { faxClient, control: temporalWorkflowControl(client), documentsRoot },
  });
});
afterAll(async () => {
  await app.close();
  await connection.close();
  await database.close();
});

describe('POST /v1/faxes with the real fax client', () => {
  it("starts the workflow with the streamed document by reference, for the key's tenant; a retry replays", async () => {
    const { tenantId, key } = await tenantWithKey(database.db, 'real');
    const pdf = Buffer.from(await makeSamplePdf(1));
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const id = `real-${randomUUID().slice(0, 8)}`;
    const body = form({ to: '+12025550123', sendAt }, [{ filename: 'letter.pdf', content: pdf }]);
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...body.headers, ...auth(key), 'idempotency-key': id },
        payload: body.payload,
      });

    const res = await post();
    expect(res.statusCode, res.body).toBe(202);
    const fax = res.json() as V1Fax;
    expect(fax).toMatchObject({
      id,
      tenantId,
      status: 'Accepted',
      sendAt,
      nextAction: { kind: 'send', at: sendAt },
    });

    const row = await database.db
      .selectFrom('api_fax_submissions')
      .select('workflow_id')
      .where('tenant_id', '=', tenantId)
      .where('job_id', '=', id)
      .executeTakeFirstOrThrow();
    const history = await client.workflow.getHandle(row.workflow_id).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0]?.data;
    const input = JSON.parse(Buffer.from(payload!).toString('utf8')) as FaxWorkflowInput;
    const sha = createHash('sha256').update(pdf).digest('hex');
    expect(input.documents).toEqual([
      { sha256: sha, size: pdf.length, filename: 'letter.pdf', contentType: 'application/pdf' },
    ]);
    expect(input.tenantId).toBe(tenantId);
    expect(input.sendAt).toBe(sendAt);

    const again = await post();
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');

    // No worker runs: GET answers from Postgres without waiting long for the live state.
    const t0 = Date.now();
    const got = await app.inject({ method: 'GET', url: `/v1/faxes/${id}`, headers: auth(key) });
    expect(got.statusCode).toBe(200);
    expect((got.json() as V1Fax).nextAction).toEqual({ kind: 'send', at: sendAt });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
