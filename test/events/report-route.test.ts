import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { PDFDict, PDFDocument, PDFName, PDFStream } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { updateFaxAttempt } from '../../src/db/fax-attempts';
import { insertFaxJob, updateFaxJobStatus } from '../../src/db/fax-jobs';
import { createTenant } from '../../src/db/tenants';
import { reportRoute } from '../../src/events/report-route';
import { makeSamplePdf } from '../../src/pdf/sample-document';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import type { DocumentRef, DocumentStore } from '../../src/storage/document-store';
import { tempDir, testDatabase } from '../support/database';
import { faxJobRow } from '../support/fax-job-row';

/** pdftotext (poppler-utils; .ci/run installs it) reads the report back as text, layout kept. */
async function pdfText(pdf: Buffer): Promise<string> {
  const file = path.join(await tempDir('report-'), 'r.pdf');
  await writeFile(file, pdf);
  const { stdout } = await promisify(execFile)('pdftotext', ['-layout', file, '-']);
  return stdout;
}

/** The subtypes of the XObjects drawn on the report's first page. */
function xobjectSubtypes(report: PDFDocument): string[] {
  const xobjects = report.getPage(0).node.Resources()?.lookupMaybe(PDFName.of('XObject'), PDFDict);
  return (xobjects?.keys() ?? []).map((k) =>
    String(xobjects!.lookup(k, PDFStream).dict.get(PDFName.of('Subtype'))),
  );
}

let database: DatabaseHandle;
let documents: DocumentStore;
let app: FastifyInstance;
const tenant = `r-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  database = testDatabase();
  documents = createLocalDocumentStore(await tempDir());
  await createTenant(database.db, { id: tenant, name: 'Reports' });
  app = Fastify();
  app.addHook('onRequest', async (request) => {
    const t = request.headers['x-test-tenant'];
    if (typeof t === 'string') (request as unknown as { tenant: unknown }).tenant = { id: t, apiKeyId: 'k' };
  });
  await app.register(reportRoute, { db: database.db, documents, prefix: '/v1' });
});
afterAll(async () => {
  await database?.close();
});

async function job(docs: DocumentRef[], status: 'Delivered' | 'Failed', attempts: [string, string | null][]) {
  const key = `inv-${randomUUID().slice(0, 8)}`;
  // The row's id is the job's workflow id; the API names the job by its key.
  const id = faxWorkflowId(key, tenant);
  await insertFaxJob(
    database.db,
    faxJobRow(id, {
      job_key: key,
      tenant_id: tenant,
      credential_key: null,
      recipient: '+14155550123',
      documents: JSON.stringify(docs),
      sha256: 'c'.repeat(64),
      size_bytes: docs.reduce((n, d) => n + d.size, 0),
      pages: 3,
    }),
  );
  for (const [i, [outcome, messageId]] of attempts.entries()) {
    await database.db
      .insertInto('fax_attempts')
      .values({ job_id: id, attempt_no: i + 1, status: 'Sending', started_at: new Date() })
      .execute();
    await updateFaxAttempt(database.db, id, i + 1, {
      status: outcome,
      ...(messageId && { messageId }),
      ...(outcome === 'SendingFailed' && { faxErrorCode: 'LineBusy' }),
      finished: true,
    });
  }
  await updateFaxJobStatus(database.db, id, { status, attempts: attempts.length });
  return key;
}

describe('GET /v1/faxes/:id/report.pdf', () => {
  it('draws recipient, pages, each attempt, the final status, SHA-256 and a page-1 thumbnail', async () => {
    const source = await documents.put(await makeSamplePdf(3, 'Invoice 4711 for ACME'), {
      filename: 'invoice.pdf',
      contentType: 'application/pdf',
    });
    const id = await job([source], 'Delivered', [
      ['SendingFailed', 'msg-1001'],
      ['Delivered', 'msg-1002'],
    ]);
    const res = await app.inject({ url: `/v1/faxes/${id}/report.pdf`, headers: { 'x-test-tenant': tenant } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toContain(`fax-${id}-report.pdf`);

    const report = await PDFDocument.load(res.rawPayload);
    expect(report.getTitle()).toBe(`Transmission report ${id}`);
    // The thumbnail is page 1 of the source, embedded as a form XObject.
    expect(xobjectSubtypes(report)).toEqual(['/Form']);

    const text = await pdfText(res.rawPayload);
    expect(text).toContain('Fax transmission report');
    expect(text).toMatch(/Recipient:\s+\+14155550123/);
    expect(text).toMatch(/Pages:\s+3/);
    expect(text).toMatch(/Final status:\s+Delivered\n/);
    expect(text).toMatch(/#1\s+\S+Z\s+SendingFailed\s+message msg-1001/);
    expect(text).toMatch(/fax error LineBusy/);
    expect(text).toMatch(/#2\s+\S+Z\s+Delivered\s+message msg-1002/);
    expect(text).toContain(source.sha256);
    expect(text).toContain('c'.repeat(64));
    // The thumbnail's own text is in the report (page 1 of 3, not page 2).
    expect(text).toContain('Invoice 4711 for ACME');
    expect(text).toContain('Page 1 of 3');
    expect(text).not.toContain('Page 2 of 3');
  });

  it('has no thumbnail when the source is not a PDF, and says when nothing was sent', async () => {
    const tiff = await documents.put(Buffer.from('II*\0fake tiff'), {
      filename: 'scan.tiff',
      contentType: 'image/tiff',
    });
    const id = await job([tiff], 'Failed', []);
    const res = await app.inject({ url: `/v1/faxes/${id}/report.pdf`, headers: { 'x-test-tenant': tenant } });
    expect(res.statusCode).toBe(200);
    const report = await PDFDocument.load(res.rawPayload);
    expect(xobjectSubtypes(report)).toEqual([]);
    const text = await pdfText(res.rawPayload);
    expect(text).toMatch(/Final status:\s+Failed/);
    expect(text).toContain('No send attempt was made.');
    expect(text).toContain(tiff.sha256);
  });

  it("is a 404 for another tenant's fax, like a fax that does not exist", async () => {
    const other = `o-${randomUUID().slice(0, 8)}`;
    await createTenant(database.db, { id: other, name: 'Other' });
    const id = await job([], 'Failed', []);
    for (const url of [
      `/v1/faxes/${id}/report.pdf`,
      '/v1/faxes/nope/report.pdf',
      '/v1/faxes/%20bad/report.pdf',
    ]) {
      const res = await app.inject({ url, headers: { 'x-test-tenant': other } });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('FAX_NOT_FOUND');
    }
    expect((await app.inject({ url: `/v1/faxes/${id}/report.pdf` })).statusCode).toBe(401);
  });
});
