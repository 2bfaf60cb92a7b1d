import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFaxflowClient,
  FaxflowApiError,
  verifyWebhook,
  type V1EventEnvelope,
  type V1Fax,
} from '../../src/client/http';
import { makeSamplePdf } from '../../src/pdf/sample-document';
import { tempDir } from '../support/database';
import { API_KEY, startFakeV1, type FakeV1 } from './fake-v1-server';

let fake: FakeV1;
beforeAll(async () => {
  fake = await startFakeV1();
});
afterAll(async () => {
  await fake?.close();
});

const client = () => createFaxflowClient({ baseUrl: fake.url, apiKey: API_KEY });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('faxflow/client', () => {
  it('sends a path, bytes and a stream as one multipart upload, the stream unbuffered', async () => {
    const dir = await tempDir();
    const pdf = await makeSamplePdf(2);
    const file = path.join(dir, 'invoice.pdf');
    await writeFile(file, pdf);
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    let chunks = 0;
    const stream = Readable.from(
      (function* () {
        for (let i = 0; i < big.length; i += 64 * 1024) {
          chunks++;
          yield big.subarray(i, i + 64 * 1024);
        }
      })(),
    );
    const before = fake.uploads.length;
    const res = await client().sendFax({
      to: '+14155550100',
      files: [file, { data: Buffer.from('hello'), filename: 'note.txt' }, { stream, filename: 'scan.tiff' }],
      coverPageText: 'Invoice attached',
      sendAt: new Date('2030-01-01T09:00:00Z'),
      metadata: { claim: 'C-1' },
    });
    expect(res.replayed).toBe(false);
    expect(res.broadcastId).toBeNull();
    expect(res.faxes).toHaveLength(1);
    expect(res.faxes[0]).toMatchObject({
      to: '+14155550100',
      metadata: { claim: 'C-1' },
      sendAt: '2030-01-01T09:00:00.000Z',
    });
    expect(fake.uploads.slice(before)).toEqual([
      { filename: 'invoice.pdf', contentType: 'application/pdf', size: pdf.length, sha256: sha(pdf) },
      { filename: 'note.txt', contentType: 'text/plain', size: 5, sha256: sha(Buffer.from('hello')) },
      { filename: 'scan.tiff', contentType: 'image/tiff', size: big.length, sha256: sha(big) },
    ]);
    expect(chunks).toBeGreaterThan(40);
  });

  it('makes a broadcast of several recipients and replays an idempotency key', async () => {
    const input = {
      to: ['+14155550101', '+14155550102'],
      files: [{ data: Buffer.from('x'), filename: 'a.pdf' }],
      idempotencyKey: 'k-1',
    };
    const first = await client().sendFax(input);
    expect(first.faxes.map((f) => f.to)).toEqual(['+14155550101', '+14155550102']);
    expect(first.broadcastId).toMatch(/^b-/);
    const again = await client().sendFax({
      ...input,
      files: [{ data: Buffer.from('x'), filename: 'a.pdf' }],
    });
    expect(again.replayed).toBe(true);
    expect(again.faxes.map((f) => f.id)).toEqual(first.faxes.map((f) => f.id));
  });

  it('refuses bad input before sending anything', async () => {
    const n = fake.requests.length;
    await expect(client().sendFax({ to: [], files: [] })).rejects.toThrow(/at least one recipient/);
    await expect(client().sendFax({ to: '+1415', files: ['/nonexistent/file.pdf'] })).rejects.toThrow(
      /ENOENT/,
    );
    expect(() => createFaxflowClient({ baseUrl: 'localhost:3000', apiKey: 'k' })).toThrow(/http\(s\) URL/);
    expect(fake.requests.length).toBe(n);
  });

  it('throws FaxflowApiError with the code and status, and retries 429 on reads', async () => {
    const err = await client()
      .getFax('nope')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaxflowApiError);
    expect(err).toMatchObject({ code: 'FAX_NOT_FOUND', status: 404, message: 'No such fax.' });
    const unauth = await createFaxflowClient({ baseUrl: fake.url, apiKey: 'fxf_wrong' })
      .getFax('x')
      .catch((e: unknown) => e);
    expect(unauth).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });

    const { faxes } = await client().sendFax({
      to: '+14155550103',
      files: [{ data: Buffer.from('x'), filename: 'a.pdf' }],
    });
    fake.throttleNext(2);
    expect((await client().getFax(faxes[0]!.id)).id).toBe(faxes[0]!.id);
    fake.throttleNext(3);
    await expect(client().getFax(faxes[0]!.id)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      retryAfter: 0,
    });
    const closed = await createFaxflowClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', retries: 0 })
      .getFax('x')
      .catch((e: unknown) => e);
    expect(closed).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
  });

  it('iterates every fax across pages, and page by page', async () => {
    const all: V1Fax[] = [];
    for await (const fax of client().listFaxes({ limit: 2 })) all.push(fax);
    expect(all.length).toBe(fake.faxes.size);
    expect(new Set(all.map((f) => f.id)).size).toBe(all.length);
    const pages: number[] = [];
    for await (const page of client().listFaxes({ limit: 2 }).pages()) pages.push(page.data.length);
    expect(pages.length).toBe(Math.ceil(fake.faxes.size / 2));
  });

  it('cancels, reports 409 when too late, reschedules and downloads the report', async () => {
    const c = client();
    const [fax] = (
      await c.sendFax({ to: '+14155550104', files: [{ data: Buffer.from('x'), filename: 'a.pdf' }] })
    ).faxes;
    const moved = await c.rescheduleFax(fax!.id, '2031-05-05T10:00:00Z');
    expect(moved.sendAt).toBe('2031-05-05T10:00:00Z');
    expect((await c.cancelFax(fax!.id)).status).toBe('Canceled');
    await expect(c.cancelFax(fax!.id)).rejects.toMatchObject({ code: 'FAX_ALREADY_FINAL', status: 409 });
    expect(Buffer.from(await c.getReport(fax!.id)).toString()).toContain('%PDF');
  });

  it('waitForFax resolves on a final status, seeing each step, and times out otherwise', async () => {
    const c = client();
    const [fax] = (
      await c.sendFax({ to: '+14155550105', files: [{ data: Buffer.from('x'), filename: 'a.pdf' }] })
    ).faxes;
    fake.scripts.set(fax!.id, ['Sending', 'Queued', 'Sent', 'Delivered']);
    const seen: string[] = [];
    const done = await c.waitForFax(fax!.id, { minIntervalMs: 5, onUpdate: (f) => seen.push(f.status) });
    expect(done.status).toBe('Delivered');
    expect(seen).toEqual(['Sending', 'Queued', 'Sent', 'Delivered']);

    const [slow] = (
      await c.sendFax({ to: '+14155550106', files: [{ data: Buffer.from('x'), filename: 'a.pdf' }] })
    ).faxes;
    await expect(c.waitForFax(slow!.id, { minIntervalMs: 5, timeoutMs: 100 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
  });

  it('verifyWebhook accepts a genuine delivery (either secret during rotation) and refuses a forged one', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const old = `whsec_${Buffer.from('fedcba9876543210fedcba9876543210').toString('base64')}`;
    const event = {
      id: 'evt_1',
      type: 'fax.delivered',
      createdAt: new Date().toISOString(),
      tenantId: 'acme',
      data: {},
    };
    const body = JSON.stringify(event);
    const now = new Date();
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': `${new Webhook(secret).sign('evt_1', now, body)} ${new Webhook(old).sign('evt_1', now, body)}`,
    };
    expect(verifyWebhook(body, headers, secret)).toEqual(event as unknown as V1EventEnvelope);
    expect(verifyWebhook(Buffer.from(body), new Headers(headers), [old]).id).toBe('evt_1');
    const forged = () => verifyWebhook(body.replace('delivered', 'failed'), headers, secret);
    expect(forged).toThrow(FaxflowApiError);
    expect(forged).toThrow(/did not verify/);
    const stale = { ...headers, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000) - 3600) };
    expect(() => verifyWebhook(body, stale, secret)).toThrow(/too old/i);
  });
});
