import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sendTaskQueue } from '../../src/contracts/task-queues';
import { fakeActivities } from '../workflows/fake-activities';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/api/app';
import { createFaxClient, IdempotencyKeyReusedError, type FaxClient } from '../../src/client/fax-client';
import type { DatabaseHandle } from '../../src/db/connection';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { FaxValidationError } from '../../src/validation/validation-error';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import type { FaxWorkflowState } from '../../src/contracts/workflow-types';
import { tempDir, testDatabase } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FakeFaxClient, makeApp, NotificationRecorder } from './helpers';

let database: DatabaseHandle;
let app: FastifyInstance;
let faxClient: FakeFaxClient;

beforeAll(async () => {
  database = testDatabase();
  ({ app, faxClient } = await makeApp(database.db));
});
afterAll(async () => {
  await app.close();
  await database.close();
});
beforeEach(() => {
  faxClient.started.length = 0;
});

const PDF_BYTES = Buffer.from('%PDF-1.7 pretend document bytes \u00ff\u0000\u0001', 'latin1');

function faxBody(overrides: Record<string, unknown> = {}) {
  return {
    to: '+12025550123',
    documents: [{ filename: 'letter.pdf', contentBase64: PDF_BYTES.toString('base64') }],
    ...overrides,
  };
}

function postFax(payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/faxes',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

function errorOf(res: { json: () => unknown }) {
  return (res.json() as { error: { code: string; message: string } }).error;
}

describe('POST /faxes', () => {
  it('decodes the documents and hands everything to startFax; 202 with the job', async () => {
    const res = await postFax(
      faxBody({
        sendAt: '2026-12-01T09:00:00Z',
        tenantId: 'acme',
        coverPageText: 'Hello',
        coverIndex: 2,
        faxResolution: 'High',
        documents: [
          { filename: 'letter.pdf', contentBase64: PDF_BYTES.toString('base64') },
          { filename: 'b.txt', contentBase64: 'aGVs\nbG8=' },
        ],
      }),
      { 'idempotency-key': 'invoice-4711' },
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ jobId: 'invoice-4711', workflowId: 'fax-invoice-4711', started: true });
    expect(faxClient.started).toHaveLength(1);
    const call = faxClient.started[0]!;
    expect(call.idempotencyKey).toBe('invoice-4711');
    expect(call.to).toBe('+12025550123');
    expect(call).toMatchObject({
      sendAt: '2026-12-01T09:00:00Z',
      tenantId: 'acme',
      coverPageText: 'Hello',
      coverIndex: 2,
      faxResolution: 'High',
    });
    const docs = call.documents as Array<{ bytes: Uint8Array; filename: string }>;
    expect(docs.map((d) => d.filename)).toEqual(['letter.pdf', 'b.txt']);
    expect(Buffer.from(docs[0]!.bytes).equals(PDF_BYTES)).toBe(true);
    expect(Buffer.from(docs[1]!.bytes).toString()).toBe('hello');
  });

  it('takes the key from the body when there is no header; base64url works too', async () => {
    const res = await postFax(
      faxBody({
        idempotencyKey: 'k-1',
        documents: [{ filename: 'x.bin', contentBase64: Buffer.from([0xfb, 0xff]).toString('base64url') }],
      }),
    );
    expect(res.statusCode).toBe(202);
    const call = faxClient.started[0]!;
    expect(call.idempotencyKey).toBe('k-1');
    const doc = call.documents[0] as { bytes: Uint8Array };
    expect([...doc.bytes]).toEqual([0xfb, 0xff]);
  });

  it('passes the scheduling mode and our own cover page through', async () => {
    const res = await postFax(
      faxBody({
        schedule: 'ringcentral',
        coverPage: { from: 'Dr. Who', note: 'Results attached', confidential: true },
      }),
    );
    expect(res.statusCode).toBe(202);
    expect(faxClient.started[0]).toMatchObject({
      schedule: 'ringcentral',
      coverPage: { from: 'Dr. Who', note: 'Results attached', confidential: true },
    });
    const bad = await postFax(faxBody({ schedule: 'tomorrow' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/schedule/);
  });

  it('no key at all: startFax gets none (it generates one)', async () => {
    const res = await postFax(faxBody());
    expect(res.statusCode).toBe(202);
    expect(faxClient.started[0]!.idempotencyKey).toBeUndefined();
  });

  it('a key already used: 200 with started false', async () => {
    faxClient.startImpl = async (r) => ({ jobId: r.idempotencyKey!, workflowId: 'fax-x', started: false });
    try {
      const res = await postFax(faxBody(), { 'idempotency-key': 'again' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ jobId: 'again', started: false });
    } finally {
      faxClient.startImpl = new FakeFaxClient().startImpl;
    }
  });

  it('FaxValidationError → 422 with its code and sentence', async () => {
    faxClient.startImpl = async () => {
      throw new FaxValidationError('INVALID_NUMBER', 'The number "12" is not a valid fax number.');
    };
    try {
      const res = await postFax(faxBody({ to: '12' }));
      expect(res.statusCode).toBe(422);
      expect(errorOf(res)).toEqual({
        code: 'INVALID_NUMBER',
        message: 'The number "12" is not a valid fax number.',
      });
    } finally {
      faxClient.startImpl = new FakeFaxClient().startImpl;
    }
  });

  it('an unexpected failure of the fax client → 500 without internals', async () => {
    faxClient.startImpl = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.1:7233 secret-internal-detail');
    };
    try {
      const res = await postFax(faxBody());
      expect(res.statusCode).toBe(500);
      expect(errorOf(res).code).toBe('INTERNAL');
      expect(res.body).not.toContain('secret-internal-detail');
      expect(res.body).not.toContain('ECONNREFUSED');
    } finally {
      faxClient.startImpl = new FakeFaxClient().startImpl;
    }
  });

  it('malformed JSON → 400 INVALID_JSON', async () => {
    const res = await postFax('{"to": "+1202555', {});
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('INVALID_JSON');
    expect(faxClient.started).toHaveLength(0);
  });

  it.each([
    ['to missing', faxBody({ to: undefined }), 'The field "to" is required.'],
    ['to a number', faxBody({ to: 12025550123 }), 'The field "to" must be a string.'],
    ['documents empty', faxBody({ documents: [] }), 'The field "documents" must have at least 1 item(s).'],
    [
      'filename missing',
      faxBody({ documents: [{ contentBase64: 'AAAA' }] }),
      'The field "documents[0].filename" is required.',
    ],
    ['unknown field', faxBody({ sendTime: 'now' }), 'The field "sendTime" is not allowed.'],
    [
      'bad resolution',
      faxBody({ faxResolution: 'Ultra' }),
      'The field "faxResolution" must be one of "High", "Low".',
    ],
    ['coverIndex fraction', faxBody({ coverIndex: 1.5 }), 'coverIndex'],
    ['coverIndex too big', faxBody({ coverIndex: 99 }), 'The field "coverIndex" must be at most 13.'],
    ['array body', [], 'The request body must be an object.'],
    [
      'not base64',
      faxBody({ documents: [{ filename: 'a.pdf', contentBase64: 'not base64!' }] }),
      'The field "documents[0].contentBase64" is not valid base64',
    ],
  ])('bad shape (%s) → 400 with a sentence naming the field', async (_name, payload, message) => {
    const res = await postFax(payload);
    expect(res.statusCode).toBe(400);
    const err = errorOf(res);
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.message).toContain(message);
    expect(err.message).toMatch(/\.$/);
    expect(faxClient.started).toHaveLength(0);
  });

  it('header and body keys that differ → 400', async () => {
    const res = await postFax(faxBody({ idempotencyKey: 'a' }), { 'idempotency-key': 'b' });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toContain('Idempotency-Key');
  });

  it('text/plain or a missing content type → 415', async () => {
    const plain = await postFax(JSON.stringify(faxBody()), { 'content-type': 'text/plain' });
    expect(plain.statusCode).toBe(415);
    expect(errorOf(plain).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const none = await app.inject({ method: 'POST', url: '/faxes', payload: Buffer.from('{}') });
    expect(none.statusCode).toBe(415);
  });

  it('a body over the limit → 413', async () => {
    const small = await makeApp(database.db);
    const limited = await buildApp(
      { db: database.db, faxClient: small.faxClient, onNotification: new NotificationRecorder().handler },
      { faxBodyLimit: 1024, legacyAuth: 'optional' },
    );
    try {
      const res = await limited.inject({
        method: 'POST',
        url: '/faxes',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(faxBody({ coverPageText: 'x'.repeat(2000) })),
      });
      expect(res.statusCode).toBe(413);
      expect(errorOf(res).message).toContain('1 KiB');
    } finally {
      await limited.close();
      await small.app.close();
    }
  });
});

describe('GET /faxes/:jobId', () => {
  const state: FaxWorkflowState = {
    jobId: 'job-1',
    status: 'Delivered',
    recipient: '+12025550123',
    attempt: 1,
    timeline: [],
  };

  it('found → 200 with state (and result when finished)', async () => {
    faxClient.jobs.set('job-1', { state });
    const res = await app.inject({ method: 'GET', url: '/faxes/job-1' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ state });

    const result = { jobId: 'job-1', status: 'Delivered', recipient: '+12025550123', attempts: 1 } as const;
    faxClient.jobs.set('job-2', { state, result: result as never });
    const done = await app.inject({ method: 'GET', url: '/faxes/job-2' });
    expect(done.json()).toEqual({ state, result });
  });

  it('not found → 404 NOT_FOUND', async () => {
    const res = await app.inject({ method: 'GET', url: '/faxes/nope' });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toEqual({ code: 'NOT_FOUND', message: 'There is no fax job with id "nope".' });
  });

  it("a broadcast recipient's job id (<key>~<n>) is asked for like any other", async () => {
    faxClient.jobs.set('inv~2', { state: { ...state, jobId: 'inv~2' } });
    const res = await app.inject({ method: 'GET', url: '/faxes/inv~2' });
    expect(res.statusCode).toBe(200);
    const bad = await app.inject({ method: 'GET', url: '/faxes/inv~x' });
    expect(bad.statusCode).toBe(400);
  });

  it('a malformed id → 400', async () => {
    const res = await app.inject({ method: 'GET', url: `/faxes/${encodeURIComponent('../etc passwd')}` });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('INVALID_REQUEST');
  });
});

describe('routes', () => {
  it('GET /health → 200 {ok:true}', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('unknown route → 404 in the error shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/nothing/here?x=1' });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toEqual({
      code: 'NOT_FOUND',
      message: 'There is no route GET "/nothing/here"; see the API documentation.',
    });
  });

  it.each([
    ['DELETE', '/faxes', 'POST'],
    ['PUT', '/faxes/abc', 'GET, HEAD'],
    ['POST', '/health', 'GET, HEAD'],
  ])('%s %s → 405 with Allow: %s, without reading the body', async (method, url, allow) => {
    const res = await app.inject({
      method: method as 'DELETE',
      url,
      headers: { 'content-type': 'application/json' },
      payload: '{ not json',
    });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(errorOf(res).code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('with the real fax client (Temporal dev server, no worker)', () => {
  let client: Client;
  let realApp: FastifyInstance;
  let faxes: FaxClient;
  const taskQueue = `api-test-${randomUUID()}`;
  const started: string[] = [];

  beforeAll(async () => {
    client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    faxes = createFaxClient({
      client,
      documents: createLocalDocumentStore(await tempDir()),
      taskQueue,
      defaultRegion: 'US',
    });
    realApp = await buildApp(
      { db: database.db, faxClient: faxes, onNotification: new NotificationRecorder().handler },
      { legacyAuth: 'optional' },
    );
  });
  afterAll(async () => {
    await realApp.close();
    for (const id of started)
      await client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    await client.connection.close();
  });

  it('starts one workflow per key: 202, then 200 started:false', async () => {
    const key = `api-${randomUUID()}`;
    const pdf = Buffer.from(await makeSamplePdf(1)).toString('base64');
    const body = JSON.stringify({
      to: '(202) 555-0123',
      documents: [{ filename: 'a.pdf', contentBase64: pdf }],
    });
    const send = () =>
      realApp.inject({
        method: 'POST',
        url: '/faxes',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        payload: body,
      });
    const first = await send();
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ jobId: key, workflowId: faxWorkflowId(key), started: true });
    started.push(faxWorkflowId(key));
    const second = await send();
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ jobId: key, workflowId: faxWorkflowId(key), started: false });
  });

  it('the same key with a different request → 422 IDEMPOTENCY_KEY_REUSED; the client throws a typed error', async () => {
    const key = `api-${randomUUID()}`;
    const pdf = Buffer.from(await makeSamplePdf(1)).toString('base64');
    const send = (to: string) =>
      realApp.inject({
        method: 'POST',
        url: '/faxes',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        payload: { to, documents: [{ filename: 'a.pdf', contentBase64: pdf }] },
      });
    expect((await send('+12025550123')).statusCode).toBe(202);
    started.push(faxWorkflowId(key));
    const other = await send('+12025550199');
    expect(other.statusCode).toBe(422);
    expect(errorOf(other).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(errorOf(other).message).toMatch(/already used for a different request/);
    // The same request, number written another way, is still the same fax.
    expect((await send('(202) 555-0123')).json()).toEqual({
      jobId: key,
      workflowId: faxWorkflowId(key),
      started: false,
    });

    // Another file name is another request.
    await expect(
      faxes.startFax({
        to: '+12025550123',
        idempotencyKey: key,
        documents: [{ bytes: Buffer.from(pdf, 'base64'), filename: 'b.pdf' }],
      }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('a bad number or document → 422 with the validation code', async () => {
    const pdf = Buffer.from(await makeSamplePdf(1)).toString('base64');
    const badNumber = await realApp.inject({
      method: 'POST',
      url: '/faxes',
      headers: { 'content-type': 'application/json' },
      payload: { to: '12', documents: [{ filename: 'a.pdf', contentBase64: pdf }] },
    });
    expect(badNumber.statusCode).toBe(422);
    expect(errorOf(badNumber).code).toBe('INVALID_NUMBER');

    const badDoc = await realApp.inject({
      method: 'POST',
      url: '/faxes',
      headers: { 'content-type': 'application/json' },
      payload: {
        to: '+12025550123',
        documents: [{ filename: 'a.pdf', contentBase64: Buffer.from('%PDF-1.7 garbage').toString('base64') }],
      },
    });
    expect(badDoc.statusCode).toBe(422);
    expect(errorOf(badDoc).message).toMatch(/\.$/);

    const badKey = await realApp.inject({
      method: 'POST',
      url: '/faxes',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'spaces are not allowed' },
      payload: { to: '+12025550123', documents: [{ filename: 'a.pdf', contentBase64: pdf }] },
    });
    expect(badKey.statusCode).toBe(422);
    expect(errorOf(badKey).code).toBe('INVALID_REQUEST');

    // '~' separates a broadcast from its recipients' numbers: never part of a key.
    const tildeKey = await realApp.inject({
      method: 'POST',
      url: '/faxes',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'inv~1' },
      payload: { to: '+12025550123', documents: [{ filename: 'a.pdf', contentBase64: pdf }] },
    });
    expect(tildeKey.statusCode).toBe(422);
  });

  it('a 10 KB idempotency key → 422 that echoes at most 40 characters of it', async () => {
    const pdf = Buffer.from(await makeSamplePdf(1)).toString('base64');
    const res = await realApp.inject({
      method: 'POST',
      url: '/faxes',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(10_240) },
      payload: { to: '+12025550123', documents: [{ filename: 'a.pdf', contentBase64: pdf }] },
    });
    expect(res.statusCode).toBe(422);
    const error = errorOf(res);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain(`"${'k'.repeat(40)}..."`);
    expect(error.message).not.toContain('k'.repeat(41));
    expect(error.message.length).toBeLessThan(200);
  });

  it.each([129, 10_240])('GET with a %i-character job id → 400 in the house error format', async (n) => {
    const res = await realApp.inject({ method: 'GET', url: `/faxes/${'a'.repeat(n)}` });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json() as object)).toEqual(['error']);
    const error = errorOf(res);
    expect(Object.keys(error).sort()).toEqual(['code', 'message']);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain(`"${'a'.repeat(40)}..."`);
    expect(error.message).not.toContain('a'.repeat(41));
  });

  it('GET of a job that does not exist → 404', async () => {
    const res = await realApp.inject({ method: 'GET', url: `/faxes/none-${randomUUID()}` });
    expect(res.statusCode).toBe(404);
  });

  it('GET reads a real workflow through the real client: its state, and its result once it has finished', async () => {
    const fake = fakeActivities([[{ status: 'Sent' }, { status: 'Delivered' }]]);
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const { sendFax, ...light } = fake.activities;
    const workflowCode = { code: inject('workflowCode') };
    const main = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: workflowCode,
      activities: light,
    });
    const sender = await Worker.create({
      connection,
      taskQueue: sendTaskQueue(taskQueue),
      activities: { sendFax },
    });
    try {
      await sender.runUntil(() =>
        main.runUntil(async () => {
          const pdf = await makeSamplePdf(1);
          const { jobId } = await faxes.startFax({
            to: '+12025550123',
            documents: [{ bytes: pdf, filename: 'a.pdf' }],
            policy: { pollInitialMs: 100, pollMaxMs: 100, sentQuietPeriodMs: 60_000 },
          });
          started.push(faxWorkflowId(jobId));
          const get = async () => {
            const res = await realApp.inject({ method: 'GET', url: `/faxes/${jobId}` });
            expect(res.statusCode).toBe(200);
            return res.json() as { state: FaxWorkflowState; result?: { status: string } };
          };
          let body = await get();
          expect(body.state.jobId).toBe(jobId);
          while (!body.result) {
            await new Promise((r) => setTimeout(r, 50));
            body = await get();
          }
          expect(body.result).toMatchObject({ jobId, status: 'Delivered', attempts: 1, messageId: 'm1' });
          expect(body.state.timeline.map((e) => e.status)).toEqual(
            expect.arrayContaining(['Accepted', 'Sending', 'Queued', 'Sent', 'Delivered']),
          );
        }),
      );
    } finally {
      await connection.close();
    }
  });
});
