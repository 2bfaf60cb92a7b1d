import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { V1Broadcast, V1Fax, V1FaxEvent, V1Page } from '../../../src/contracts/v1-api';
import type { DatabaseHandle } from '../../../src/db/connection';
import { insertFaxJob, updateFaxJobStatus } from '../../../src/db/fax-jobs';
import { insertFaxEvent } from '../../../src/db/fax-events';
import { testDatabase } from '../../support/database';
import { makeSamplePdf } from '../../support/pdf-fixtures';
import {
  auth,
  errorOf,
  form,
  makeV1App,
  storedFiles,
  tenantWithKey,
  type FakeControl,
  type FakeV1FaxClient,
} from './helpers';

let database: DatabaseHandle;
let app: FastifyInstance;
let faxClient: FakeV1FaxClient;
let control: FakeControl;
let documentsRoot: string;
let pdf: Buffer;
let tenant: { tenantId: string; key: string };
let other: { tenantId: string; key: string };

beforeAll(async () => {
  database = testDatabase();
  ({ app, faxClient, control, documentsRoot } = await makeV1App(database.db));
  pdf = Buffer.from(await makeSamplePdf(1));
  tenant = await tenantWithKey(database.db, 'a');
  other = await tenantWithKey(database.db, 'b');
});
afterAll(async () => {
  await app.close();
  await database.close();
});
beforeEach(() => {
  faxClient.faxes.length = 0;
  faxClient.broadcasts.length = 0;
  control.calls.length = 0;
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function postJson(body: unknown, headers: Record<string, string> = {}, key = tenant.key) {
  return app.inject({
    method: 'POST',
    url: '/v1/faxes',
    headers: { 'content-type': 'application/json', ...auth(key), ...headers },
    payload: JSON.stringify(body),
  });
}

function postForm(
  fields: Record<string, string | string[]>,
  files = [{ filename: 'letter.pdf', content: pdf }],
  headers: Record<string, string> = {},
) {
  const f = form(fields, files);
  return app.inject({
    method: 'POST',
    url: '/v1/faxes',
    headers: { ...f.headers, ...auth(tenant.key), ...headers },
    payload: f.payload,
  });
}

/** What the worker would write once it picked the job up. */
async function workerRegisters(tenantId: string, jobId: string, workflowId: string, status = 'Scheduled') {
  await insertFaxJob(database.db, {
    id: workflowId,
    job_key: jobId,
    workflow_id: workflowId,
    tenant_id: tenantId,
    credential_key: 'cred',
    recipient: '+12025550123',
    documents: JSON.stringify([
      { sha256: sha(pdf), size: pdf.length, filename: 'letter.pdf', contentType: 'application/pdf' },
    ]),
    sha256: 'x',
    size_bytes: pdf.length,
    pages: 1,
    status,
    message_id: null,
    send_at: null,
    error_code: null,
    error_message: null,
    completed_at: null,
  });
}

describe('POST /v1/faxes', () => {
  it("multipart: streams the file into the store (by its SHA-256), starts the fax for the key's tenant, 202 with the job and links", async () => {
    const res = await postForm(
      {
        to: '(202) 555-0123',
        coverPageText: 'Hello',
        resolution: 'High',
        metadata: '{"order":"4711"}',
        coverPage: '{"from":"Dr. A"}',
      },
      undefined,
      { 'idempotency-key': 'mp-1' },
    );
    expect(res.statusCode, res.body).toBe(202);
    const fax = res.json() as V1Fax;
    expect(fax).toMatchObject({
      object: 'fax',
      id: 'mp-1',
      tenantId: tenant.tenantId,
      status: 'Accepted',
      final: false,
      to: '+12025550123',
      metadata: { order: '4711' },
      links: { self: '/v1/faxes/mp-1', events: '/v1/faxes/mp-1/events', report: '/v1/faxes/mp-1/report.pdf' },
    });
    expect(fax.documents).toEqual([
      {
        filename: 'letter.pdf',
        contentType: 'application/pdf',
        sizeBytes: pdf.length,
        sha256: sha(pdf),
        pages: null,
      },
    ]);
    const started = faxClient.faxes[0]!;
    expect(started).toMatchObject({
      to: '(202) 555-0123',
      tenantId: tenant.tenantId,
      idempotencyKey: 'mp-1',
      coverPageText: 'Hello',
      faxResolution: 'High',
      coverPage: { from: 'Dr. A' },
    });
    expect(started.documents).toEqual([
      {
        stored: {
          sha256: sha(pdf),
          size: pdf.length,
          filename: 'letter.pdf',
          contentType: 'application/pdf',
        },
      },
    ]);
    expect(await storedFiles(documentsRoot)).toContain(`${sha(pdf).slice(0, 2)}/${sha(pdf)}`);
    expect((await storedFiles(documentsRoot)).filter((f) => f.startsWith('.incoming/'))).toEqual([]);
  });

  it("JSON with base64 documents; several `to` make a broadcast (202 with every recipient's job)", async () => {
    const single = await postJson({
      to: '+12025550124',
      documents: [{ filename: 'a.pdf', contentBase64: pdf.toString('base64') }],
    });
    expect(single.statusCode, single.body).toBe(202);
    expect((single.json() as V1Fax).to).toBe('+12025550124');

    const res = await postJson(
      {
        to: ['+12025550123', '+12025550124'],
        documents: [{ filename: 'a.pdf', contentBase64: pdf.toString('base64') }],
        metadata: { batch: '7' },
      },
      { 'idempotency-key': 'bc-1' },
    );
    expect(res.statusCode, res.body).toBe(202);
    const bc = res.json() as V1Broadcast;
    expect(bc).toMatchObject({
      object: 'broadcast',
      id: 'bc-1',
      total: 2,
      completed: false,
      counts: { Accepted: 2 },
    });
    expect(bc.faxes.map((f) => [f.id, f.to, f.broadcastId, f.metadata])).toEqual([
      ['bc-1~1', '+12025550123', 'bc-1', { batch: '7' }],
      ['bc-1~2', '+12025550124', 'bc-1', { batch: '7' }],
    ]);
    expect(faxClient.broadcasts[0]!.recipients).toEqual([{ to: '+12025550123' }, { to: '+12025550124' }]);
    const get = await app.inject({ method: 'GET', url: '/v1/broadcasts/bc-1', headers: auth(tenant.key) });
    expect((get.json() as V1Broadcast).total).toBe(2);
    const hidden = await app.inject({ method: 'GET', url: '/v1/broadcasts/bc-1', headers: auth(other.key) });
    expect(hidden.statusCode).toBe(404);
  });

  it("references documents uploaded before through POST /v1/documents (only the tenant's own)", async () => {
    const f = form({}, [{ filename: 'policy.pdf', content: pdf }]);
    const up = await app.inject({
      method: 'POST',
      url: '/v1/documents',
      headers: { ...f.headers, ...auth(tenant.key) },
      payload: f.payload,
    });
    expect(up.statusCode, up.body).toBe(201);
    const doc = up.json() as { id: string; sha256: string };
    expect(doc.sha256).toBe(sha(pdf));

    const res = await postJson({ to: '+12025550123', documentIds: [doc.id] });
    expect(res.statusCode, res.body).toBe(202);
    expect(faxClient.faxes.at(-1)!.documents).toEqual([
      { stored: expect.objectContaining({ sha256: sha(pdf), filename: 'policy.pdf' }) },
    ]);

    const theirs = await postJson({ to: '+12025550123', documentIds: [doc.id] }, {}, other.key);
    expect([theirs.statusCode, errorOf(theirs).code]).toEqual([422, 'UNKNOWN_DOCUMENT']);
  });
});

describe('Idempotency-Key', () => {
  it('takes over a key whose first request died mid-way (its claim outlived the lease): no 409 forever', async () => {
    const body = {
      to: '+12025550123',
      documents: [{ filename: 'a.pdf', contentBase64: pdf.toString('base64') }],
    };
    expect((await postJson(body, { 'idempotency-key': 'idem-crash' })).statusCode).toBe(202);
    // What a process killed between claiming the key and storing the answer leaves behind.
    await sql`update idempotency_keys
      set status_code = null, response = null, completed_at = null, created_at = now() - interval '10 minutes'
      where key = 'idem-crash'`.execute(database.db);
    const started = Date.now();
    const retried = await postJson(body, { 'idempotency-key': 'idem-crash' });
    expect(retried.statusCode, retried.body).toBeLessThan(300);
    expect(Date.now() - started).toBeLessThan(5_000);
    const row = await database.db
      .selectFrom('idempotency_keys')
      .select(['status_code'])
      .where('key', '=', 'idem-crash')
      .executeTakeFirstOrThrow();
    expect(row.status_code).not.toBeNull();
  });

  it('same key and request: the original answer, 200 and Idempotent-Replayed; a different request: 422', async () => {
    const body = {
      to: '+12025550123',
      documents: [{ filename: 'a.pdf', contentBase64: pdf.toString('base64') }],
    };
    const first = await postJson(body, { 'idempotency-key': 'idem-1' });
    expect(first.statusCode).toBe(202);
    const again = await postJson(body, { 'idempotency-key': 'idem-1' });
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(faxClient.faxes).toHaveLength(1);

    // The same fax as multipart is the same request.
    const asForm = await postForm({ to: '+12025550123' }, [{ filename: 'a.pdf', content: pdf }], {
      'idempotency-key': 'idem-1',
    });
    expect(asForm.statusCode).toBe(200);

    const changed = await postJson({ ...body, to: '+12025550124' }, { 'idempotency-key': 'idem-1' });
    expect([changed.statusCode, errorOf(changed).code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // Keys are per tenant: another tenant's same key is its own fax.
    const elsewhere = await postJson(body, { 'idempotency-key': 'idem-1' }, other.key);
    expect(elsewhere.statusCode).toBe(202);
  });

  it('concurrent duplicates: one start, every answer the same job', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    faxClient.gate = () => held;
    const body = {
      to: '+12025550123',
      documents: [{ filename: 'a.pdf', contentBase64: pdf.toString('base64') }],
    };
    const requests = Array.from({ length: 5 }, () => postJson(body, { 'idempotency-key': 'race-1' }));
    await expect
      .poll(() =>
        database.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'race-1').execute(),
      )
      .toHaveLength(1);
    release();
    const answers = await Promise.all(requests);
    faxClient.gate = undefined;
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(new Set(answers.map((a) => (a.json() as V1Fax).id))).toEqual(new Set(['race-1']));
    expect(faxClient.faxes.filter((f) => f.idempotencyKey === 'race-1')).toHaveLength(1);
  });

  it('a first request that fails frees the key for a retry', async () => {
    faxClient.failNext = new Error('boom');
    const body = {
      to: '+12025550123',
      documents: [{ filename: 'a.pdf', contentBase64: pdf.toString('base64') }],
    };
    const failed = await postJson(body, { 'idempotency-key': 'retry-1' });
    expect(failed.statusCode).toBe(500);
    const retried = await postJson(body, { 'idempotency-key': 'retry-1' });
    expect(retried.statusCode).toBe(202);
  });
});

describe('reading, listing, cancelling', () => {
  it("GET /v1/faxes/:id: the worker's row when there is one, attempts; another tenant's job is a 404 like a missing one", async () => {
    const res = await postForm({ to: '+12025550123', metadata: '{"case":"x1"}' }, undefined, {
      'idempotency-key': 'read-1',
    });
    expect(res.statusCode).toBe(202);
    await workerRegisters(tenant.tenantId, 'read-1', `fax-${tenant.tenantId}-read-1`);
    await database.db
      .insertInto('fax_attempts')
      .values({
        job_id: `fax-${tenant.tenantId}-read-1`,
        attempt_no: 1,
        status: 'Sent',
        message_id: 'm-1',
        started_at: new Date(),
      })
      .execute();
    const got = await app.inject({ method: 'GET', url: '/v1/faxes/read-1', headers: auth(tenant.key) });
    const fax = got.json() as V1Fax;
    expect(fax).toMatchObject({ status: 'Scheduled', pages: 1, metadata: { case: 'x1' } });
    expect(fax.attempts).toMatchObject([{ attempt: 1, status: 'Sent', messageId: 'm-1' }]);

    const theirs = await app.inject({ method: 'GET', url: '/v1/faxes/read-1', headers: auth(other.key) });
    const missing = await app.inject({
      method: 'GET',
      url: '/v1/faxes/no-such-job',
      headers: auth(other.key),
    });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toEqual(JSON.parse(missing.body.replace('no-such-job', 'read-1')));
    const theirEvents = await app.inject({
      method: 'GET',
      url: '/v1/faxes/read-1/events',
      headers: auth(other.key),
    });
    expect(theirEvents.statusCode).toBe(404);
    const theirCancel = await app.inject({
      method: 'POST',
      url: '/v1/faxes/read-1/cancel',
      headers: auth(other.key),
    });
    expect(theirCancel.statusCode).toBe(404);
    expect(control.calls).toEqual([]);
  });

  it("GET /v1/faxes lists only the tenant's jobs, filters and pages with a cursor", async () => {
    const t = await tenantWithKey(database.db, 'list');
    for (let i = 0; i < 5; i++) {
      const f = form(
        {
          to: i % 2 ? '+12025550111' : '+12025550122',
          metadata: JSON.stringify(i === 3 ? { order: 'o3' } : { other: 'y' }),
        },
        [{ filename: 'a.pdf', content: pdf }],
      );
      const r = await app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...f.headers, ...auth(t.key), 'idempotency-key': `l-${i}` },
        payload: f.payload,
      });
      expect(r.statusCode).toBe(202);
    }
    await workerRegisters(t.tenantId, 'l-0', `fax-${t.tenantId}-l-0`);
    await updateFaxJobStatus(database.db, `fax-${t.tenantId}-l-0`, { status: 'Delivered' });

    const list = async (qs: string) => {
      const r = await app.inject({ method: 'GET', url: `/v1/faxes${qs}`, headers: auth(t.key) });
      expect(r.statusCode, r.body).toBe(200);
      return r.json() as V1Page<V1Fax>;
    };
    expect((await list('')).data.map((f) => f.id)).toEqual(['l-4', 'l-3', 'l-2', 'l-1', 'l-0']);
    expect((await list('?status=Delivered')).data.map((f) => f.id)).toEqual(['l-0']);
    expect((await list('?status=Accepted,Delivered')).data).toHaveLength(5);
    expect((await list('?recipient=%2B12025550111')).data.map((f) => f.id)).toEqual(['l-3', 'l-1']);
    expect((await list('?metadataKey=order&metadataValue=o3')).data.map((f) => f.id)).toEqual(['l-3']);
    expect((await list('?metadataKey=order')).data.map((f) => f.id)).toEqual(['l-3']);
    expect(
      (await list(`?createdFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).data,
    ).toEqual([]);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: V1Page<V1Fax> = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.data.map((f) => f.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toEqual(['l-4', 'l-3', 'l-2', 'l-1', 'l-0']);

    const theirs = await app.inject({ method: 'GET', url: '/v1/faxes?limit=100', headers: auth(other.key) });
    expect((theirs.json() as V1Page<V1Fax>).data.some((f) => f.id.startsWith('l-'))).toBe(false);
  });

  it("cancel and reschedule go to the job's workflow: 200 with the outcome, 409 with the reason when too late", async () => {
    await postForm({ to: '+12025550123', sendAt: new Date(Date.now() + 3600_000).toISOString() }, undefined, {
      'idempotency-key': 'cx-1',
    });
    const ok = await app.inject({ method: 'POST', url: '/v1/faxes/cx-1/cancel', headers: auth(tenant.key) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ outcome: 'canceled', fax: { id: 'cx-1' } });
    expect(control.calls).toEqual([{ op: 'cancel', workflowId: `fax-${tenant.tenantId}-cx-1` }]);

    control.cancelResult = { canceled: false, reason: 'the fax was already transmitted' };
    const late = await app.inject({
      method: 'POST',
      url: '/v1/faxes/cx-1/cancel',
      headers: auth(tenant.key),
    });
    expect([late.statusCode, errorOf(late).code]).toEqual([409, 'TOO_LATE']);
    expect(errorOf(late).message).toContain('already transmitted');
    control.cancelResult = { canceled: true };

    const at = new Date(Date.now() + 7200_000).toISOString();
    const moved = await app.inject({
      method: 'POST',
      url: '/v1/faxes/cx-1/reschedule',
      headers: { ...auth(tenant.key), 'content-type': 'application/json' },
      payload: JSON.stringify({ sendAt: at }),
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ outcome: 'rescheduled', sendAt: at });

    await workerRegisters(tenant.tenantId, 'cx-1', `fax-${tenant.tenantId}-cx-1`);
    await updateFaxJobStatus(database.db, `fax-${tenant.tenantId}-cx-1`, { status: 'Delivered' });
    control.calls.length = 0;
    const finished = await app.inject({
      method: 'POST',
      url: '/v1/faxes/cx-1/cancel',
      headers: auth(tenant.key),
    });
    expect([finished.statusCode, errorOf(finished).code]).toEqual([409, 'TOO_LATE']);
    expect(errorOf(finished).message).toContain('Delivered');
    expect(control.calls).toEqual([]);
  });

  it('GET /v1/faxes/:id/events: the observations, oldest first, paged', async () => {
    await postForm({ to: '+12025550123' }, undefined, { 'idempotency-key': 'ev-1' });
    await workerRegisters(tenant.tenantId, 'ev-1', `fax-${tenant.tenantId}-ev-1`);
    for (const status of ['Validated', 'Queued', 'Sent']) {
      await insertFaxEvent(database.db, { jobId: `fax-${tenant.tenantId}-ev-1`, status, source: 'poll' });
    }
    const first = await app.inject({
      method: 'GET',
      url: '/v1/faxes/ev-1/events?limit=2',
      headers: auth(tenant.key),
    });
    const page = first.json() as V1Page<V1FaxEvent>;
    expect(page.data.map((e) => e.status)).toEqual(['Validated', 'Queued']);
    const second = await app.inject({
      method: 'GET',
      url: `/v1/faxes/ev-1/events?limit=2&cursor=${page.nextCursor}`,
      headers: auth(tenant.key),
    });
    expect((second.json() as V1Page<V1FaxEvent>).data.map((e) => e.status)).toEqual(['Sent']);
    expect((second.json() as V1Page<V1FaxEvent>).nextCursor).toBeNull();
  });
});
