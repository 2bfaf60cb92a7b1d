import { ApplicationFailure } from '@temporalio/common';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob, updateFaxJobStatus } from '../../src/db/fax-jobs';
import type { DatabaseHandle } from '../../src/db/connection';
import { RingCentralApiError, RingCentralNetworkError } from '../../src/ringcentral/errors';
import type { DocumentRef } from '../../src/storage/document-store';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { makeActivityDeps, runActivity, testDatabase, uniqueJobId } from '../support/database';
import { FakeRingCentral } from '../support/fake-ringcentral';
import { makeSamplePdf } from '../support/pdf-fixtures';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

async function setup(rc = new FakeRingCentral()) {
  const made = await makeActivityDeps(database, rc);
  // These tests retry at once; waiting out the lease and its settle delay is test/activities/send-lease.test.ts's.
  const deps = { ...made.deps, sendLease: { settleMs: 0 } };
  const activities = createActivities(deps);
  const pdf = await deps.documents.put(await makeSamplePdf(2), {
    filename: 'letter #1.pdf',
    contentType: 'application/pdf',
  });
  return { deps, activities, rc, pdf };
}

async function prepared(
  activities: ReturnType<typeof createActivities>,
  pdf: DocumentRef,
  to = '+12025550123',
) {
  const key = uniqueJobId();
  // Rows are keyed by the job's workflow id; the activities after prepareFaxJob are given that.
  const jobId = faxWorkflowId(key);
  const result = await runActivity(activities.prepareFaxJob, {
    jobId: key,
    workflowId: jobId,
    submittedAt: new Date().toISOString(),
    to,
    documents: [pdf],
  });
  return { jobId, key, result };
}

describe('prepareFaxJob', () => {
  it('registers the job, counts pages and cleans filenames', async () => {
    const { activities, pdf, deps } = await setup();
    const { jobId, key, result } = await prepared(activities, pdf, '(202) 555-0123');
    expect(result).toMatchObject({ ok: true, recipient: '+12025550123', pages: 2 });
    expect(result.ok && result.documents[0]!.filename).toBe('letter _1.pdf');
    const row = await findFaxJob(database.db, jobId);
    expect(row).toMatchObject({
      status: 'Accepted',
      recipient: '+12025550123',
      pages: 2,
      workflow_id: jobId,
      job_key: key,
      tenant_id: 'default',
      // No connection asked for: the worker's own credential, which is the default connection.
      connection_id: deps.credentialKey,
    });
  });

  it('says in the job when a national number was read in the default region (issue 8, item 22a)', async () => {
    const { activities, pdf } = await setup();
    const { jobId } = await prepared(activities, pdf, '(202) 555-0123');
    const validated = (await listFaxEvents(database.db, jobId)).find((e) => e.status === 'Validated');
    expect(validated?.detail).toMatchObject({
      number: { given: '(202) 555-0123', e164: '+12025550123', readAsNationalIn: 'US' },
    });
    const { jobId: e164Job } = await prepared(activities, pdf, '+12025550123');
    const plain = (await listFaxEvents(database.db, e164Job)).find((e) => e.status === 'Validated');
    expect(plain?.detail).not.toHaveProperty('number');
  });

  it('rejects premium-rate numbers unless the tenant is allowed them', async () => {
    const { activities, pdf, deps } = await setup();
    const { jobId, result } = await prepared(activities, pdf, '+1 900 555 0123');
    expect(result).toMatchObject({ ok: false, code: 'PREMIUM_RATE_NUMBER' });
    expect(await findFaxJob(database.db, jobId)).toMatchObject({
      status: 'Rejected',
      error_code: 'PREMIUM_RATE_NUMBER',
    });
    const allowed = createActivities({ ...deps, premiumRateTenants: ['acme'] });
    const jobForAcme = uniqueJobId();
    const args = {
      workflowId: jobForAcme,
      submittedAt: new Date().toISOString(),
      to: '+1 900 555 0123',
      documents: [pdf],
    };
    expect(
      await runActivity(allowed.prepareFaxJob, { ...args, jobId: jobForAcme, tenantId: 'acme' }),
    ).toMatchObject({
      ok: true,
      recipient: '+19005550123',
    });
    const other = uniqueJobId();
    expect(
      await runActivity(allowed.prepareFaxJob, {
        ...args,
        jobId: other,
        workflowId: other,
        tenantId: 'globex',
      }),
    ).toMatchObject({ ok: false, code: 'PREMIUM_RATE_NUMBER' });
  });

  it('puts our own cover page in front, counted in the pages', async () => {
    const { activities, pdf, deps } = await setup();
    const jobId = uniqueJobId();
    const result = await runActivity(activities.prepareFaxJob, {
      jobId,
      workflowId: jobId,
      submittedAt: '2026-11-26T12:00:00.000Z',
      to: '+12025550123',
      recipientName: 'Dr. Jane Roe',
      documents: [pdf],
      coverPage: { from: 'Acme Clinic', note: 'Lab results attached.', confidential: true },
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.pages).toBe(3);
    expect(result.documents.map((d) => d.filename)).toEqual(['cover.pdf', 'letter _1.pdf']);
    const cover = await PDFDocument.load(await deps.documents.get(result.documents[0]!.sha256));
    expect(cover.getPageCount()).toBe(1);
    expect(cover.getCreationDate()?.toISOString()).toBe('2026-11-26T12:00:00.000Z');
  });

  it('refuses a send time in the past', async () => {
    const { activities, pdf } = await setup();
    const jobId = uniqueJobId();
    const result = await runActivity(activities.prepareFaxJob, {
      jobId,
      workflowId: jobId,
      submittedAt: '2026-11-26T12:00:00.000Z',
      sendAt: '2026-11-25T12:00:00.000Z',
      to: '+12025550123',
      documents: [pdf],
    });
    expect(result).toMatchObject({
      ok: false,
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('is in the past'),
    });
  });

  it('records a rejection as final with its code and sentence', async () => {
    const { activities, pdf } = await setup();
    const { jobId, result } = await prepared(activities, pdf, 'call me maybe');
    expect(result).toMatchObject({ ok: false, code: 'INVALID_NUMBER' });
    const row = await findFaxJob(database.db, jobId);
    expect(row).toMatchObject({ status: 'Rejected', error_code: 'INVALID_NUMBER' });
    expect(row?.completed_at).toBeInstanceOf(Date);
    expect((await listFaxEvents(database.db, jobId)).map((e) => e.status)).toEqual(['Rejected']);
  });

  it('refuses a reference to a document the store does not have', async () => {
    const { activities, pdf } = await setup();
    const { result } = await prepared(activities, { ...pdf, sha256: 'f'.repeat(64) });
    expect(result).toMatchObject({ ok: false, code: 'DOCUMENT_MISSING' });
  });

  it('is idempotent: a retried registration changes nothing', async () => {
    const { activities, pdf } = await setup();
    const jobId = uniqueJobId();
    const args = {
      jobId,
      workflowId: jobId,
      submittedAt: new Date().toISOString(),
      to: '+12025550123',
      documents: [pdf],
    };
    await runActivity(activities.prepareFaxJob, args);
    await runActivity(activities.prepareFaxJob, args, { attempt: 2 });
    const count = await database.db
      .selectFrom('fax_jobs')
      .where('id', '=', jobId)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(Number(count?.n)).toBe(1);
  });
});

describe('prepareFaxJob and job ids that come back', () => {
  it('refuses a job id whose row another run already finished, and leaves that row alone', async () => {
    const { activities, pdf } = await setup();
    const jobId = uniqueJobId();
    const args = {
      jobId,
      workflowId: jobId,
      submittedAt: new Date().toISOString(),
      to: '+12025550123',
      documents: [pdf],
    };
    const run = (runId: string) => ({ workflowExecution: { workflowId: jobId, runId } });
    expect(await runActivity(activities.prepareFaxJob, args, run('run-1'))).toMatchObject({ ok: true });
    await updateFaxJobStatus(database.db, jobId, { status: 'Delivered', messageId: 'msg-of-run-1' });

    const later = await runActivity(activities.prepareFaxJob, args, run('run-2'));
    expect(later).toMatchObject({
      ok: false,
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('belongs to a job that has already finished'),
    });
    expect(await findFaxJob(database.db, jobId)).toMatchObject({
      status: 'Delivered',
      message_id: 'msg-of-run-1',
      workflow_run_id: 'run-1',
    });
    // The run that finished the row may still retry its own registration.
    expect(await runActivity(activities.prepareFaxJob, args, run('run-1'))).toMatchObject({ ok: true });
  });
});

/** A validated job and the arguments of its first send attempt. */
async function readyToSend(activities: ReturnType<typeof createActivities>, pdf: DocumentRef) {
  const { jobId, result } = await prepared(activities, pdf);
  if (!result.ok) throw new Error(`fixture: ${result.message}`);
  return {
    jobId,
    recipient: result.recipient,
    args: { jobId, attemptNo: 1, recipient: result.recipient, documents: result.documents },
  };
}

describe('sendFax', () => {
  it('sends once and records the attempt, the job and an event', async () => {
    const { activities, pdf, rc } = await setup();
    const { jobId, args } = await readyToSend(activities, pdf);
    const sent = await runActivity(activities.sendFax, args);
    expect(sent).toMatchObject({ status: 'Queued', adopted: false });
    expect(rc.sent).toHaveLength(1);
    expect(rc.sent[0]!.request.documents[0]).toMatchObject({
      filename: 'letter _1.pdf',
      contentType: 'application/pdf',
    });
    expect(await findFaxJob(database.db, jobId)).toMatchObject({
      status: 'Queued',
      message_id: sent.messageId,
      attempts: 1,
    });
    expect(await listFaxAttempts(database.db, jobId)).toMatchObject([
      { attempt_no: 1, message_id: sent.messageId, status: 'Queued' },
    ]);
  });

  it('adopts a fax that an unanswered execution sent, instead of sending it twice', async () => {
    const { activities, pdf, rc } = await setup();
    const { jobId, args } = await readyToSend(activities, pdf);
    // RingCentral accepts the fax, but the connection drops before we hear back.
    rc.failNextSend(new RingCentralNetworkError('socket hang up', true), { butAccept: true });
    await expect(runActivity(activities.sendFax, args)).rejects.toBeInstanceOf(ApplicationFailure);
    expect(rc.sent).toHaveLength(1);

    // Temporal retries the activity: it must find the fax and not send again.
    const retried = await runActivity(activities.sendFax, args, { attempt: 2 });
    expect(retried).toMatchObject({ adopted: true, messageId: rc.sent[0]!.id });
    expect(rc.sent).toHaveLength(1);
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ message_id: rc.sent[0]!.id });
  });

  it('looks before resending after a 5xx, and sends when RingCentral has nothing', async () => {
    const { activities, pdf, rc } = await setup();
    const { args } = await readyToSend(activities, pdf);
    rc.failNextSend(new RingCentralApiError(503, 'CMN-211', 'Service temporarily unavailable'));
    await expect(runActivity(activities.sendFax, args)).rejects.toMatchObject({
      type: 'RingCentralUnavailable',
    });
    const retried = await runActivity(activities.sendFax, args, { attempt: 2 });
    expect(retried.adopted).toBe(false);
    expect(rc.listCalls).toBe(1);
    expect(rc.sent).toHaveLength(1);
  });

  it('resends without looking when the earlier error proves nothing was sent', async () => {
    const { activities, pdf, rc } = await setup();
    const { jobId, args } = await readyToSend(activities, pdf);
    rc.failNextSend(new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 1, 'Heavy'));
    await expect(runActivity(activities.sendFax, args)).rejects.toMatchObject({
      type: 'RingCentralRateLimited',
    });
    expect(await listFaxAttempts(database.db, jobId)).toMatchObject([
      { status: 'NotSent', error_code: 'CMN-301' },
    ]);
    await runActivity(activities.sendFax, args, { attempt: 2 });
    expect(rc.listCalls).toBe(0);
    expect(rc.sent).toHaveLength(1);
  });

  it("turns a 429 into a retry after RingCentral's Retry-After", async () => {
    const { activities, pdf, rc } = await setup();
    const { args } = await readyToSend(activities, pdf);
    rc.failNextSend(new RingCentralApiError(429, 'CMN-301', 'Request rate exceeded', 17, 'Heavy'));
    const err = await runActivity(activities.sendFax, args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'RingCentralRateLimited', nonRetryable: false });
    // Retry-After plus 0-25 % jitter, so that workers told the same window do not retry in one instant.
    expect((err as ApplicationFailure).nextRetryDelay).toBeGreaterThanOrEqual(17_000);
    expect((err as ApplicationFailure).nextRetryDelay).toBeLessThanOrEqual(17_000 * 1.25);
  });

  it('fails for good on a 4xx RingCentral will repeat, and records why', async () => {
    const { activities, pdf, rc } = await setup();
    const { jobId, args } = await readyToSend(activities, pdf);
    rc.failNextSend(new RingCentralApiError(403, 'MSG-340', 'Outbound fax is not allowed'));
    await expect(runActivity(activities.sendFax, args)).rejects.toMatchObject({
      type: 'RingCentralRejected',
      nonRetryable: true,
    });
    expect(await listFaxAttempts(database.db, jobId)).toMatchObject([
      { status: 'Rejected', error_code: 'MSG-340' },
    ]);
  });
});

describe('checkFaxStatus', () => {
  it('records forward moves only', async () => {
    const { activities, pdf, rc } = await setup();
    const { jobId, args, recipient } = await readyToSend(activities, pdf);
    const sent = await runActivity(activities.sendFax, args);
    const check = (known?: 'Queued' | 'Sent') =>
      runActivity(activities.checkFaxStatus, {
        jobId,
        attemptNo: 1,
        messageId: sent.messageId,
        recipient,
        ...(known && { known }),
      });
    rc.setStatus(sent.messageId, 'Sent');
    expect(await check('Queued')).toMatchObject({ status: 'Sent' });
    expect(await check('Sent')).toMatchObject({ status: 'Sent' }); // no move: nothing recorded
    rc.setStatus(sent.messageId, 'DeliveryFailed', 'LineBusy');
    expect(await check('Sent')).toMatchObject({ status: 'DeliveryFailed', faxErrorCode: 'LineBusy' });
    const events = await listFaxEvents(database.db, jobId);
    expect(events.filter((e) => e.source === 'poll').map((e) => e.status)).toEqual([
      'Sent',
      'DeliveryFailed',
    ]);
    expect(await listFaxAttempts(database.db, jobId)).toMatchObject([
      { status: 'DeliveryFailed', fax_error_code: 'LineBusy' },
    ]);
  });
});

describe('readFaxStatus and recordFaxObservation', () => {
  it('reads without writing; the record step writes a forward move once, with its source', async () => {
    const { activities, pdf, rc } = await setup();
    const { jobId, args, recipient } = await readyToSend(activities, pdf);
    const sent = await runActivity(activities.sendFax, args);
    const message = { jobId, attemptNo: 1, messageId: sent.messageId, recipient };
    rc.setStatus(sent.messageId, 'DeliveryFailed', 'LineBusy');
    const before = await listFaxEvents(database.db, jobId);
    const observation = await runActivity(activities.readFaxStatus, { ...message, known: 'Queued' });
    expect(observation).toMatchObject({ status: 'DeliveryFailed', faxErrorCode: 'LineBusy' });
    expect(await listFaxEvents(database.db, jobId)).toHaveLength(before.length);

    const { webhooksHealthy: _, ...seen } = observation;
    await runActivity(activities.recordFaxObservation, {
      ...message,
      known: 'Queued',
      observation: seen,
      source: 'poll',
    });
    // Told it already knows the status, it writes nothing more.
    await runActivity(activities.recordFaxObservation, {
      ...message,
      known: 'DeliveryFailed',
      observation: seen,
      source: 'webhook',
    });
    const events = await listFaxEvents(database.db, jobId);
    expect(events.slice(before.length).map((e) => [e.status, e.source])).toEqual([
      ['DeliveryFailed', 'poll'],
    ]);
    expect(await listFaxAttempts(database.db, jobId)).toMatchObject([
      { status: 'DeliveryFailed', fax_error_code: 'LineBusy' },
    ]);
  });
});

describe('job rows keyed by workflow id', () => {
  it('finds the row of a task a run from before tenants scheduled with the bare key', async () => {
    const { activities, pdf } = await setup();
    const key = uniqueJobId('legacy');
    const legacyWorkflowId = `fax-${key}`;
    const inLegacyRun = { workflowExecution: { workflowId: legacyWorkflowId, runId: 'run-1' } };
    await runActivity(
      activities.prepareFaxJob,
      {
        jobId: key,
        workflowId: legacyWorkflowId,
        submittedAt: new Date().toISOString(),
        to: '+12025550123',
        documents: [pdf],
      },
      inLegacyRun,
    );
    // Scheduled before the upgrade: `jobId` is the key, the row is the workflow's id.
    await runActivity(activities.recordJobStatus, { jobId: key, status: 'Scheduled' }, inLegacyRun);
    expect(await findFaxJob(database.db, legacyWorkflowId)).toMatchObject({
      job_key: key,
      status: 'Scheduled',
    });
    expect(await findFaxJob(database.db, key)).toBeUndefined();
  });

  it("refuses a job whose tenant's key another workflow already holds", async () => {
    const { activities, pdf } = await setup();
    const key = uniqueJobId('taken');
    const args = { jobId: key, submittedAt: new Date().toISOString(), to: '+12025550123', documents: [pdf] };
    expect(await runActivity(activities.prepareFaxJob, { ...args, workflowId: `fax-${key}` })).toMatchObject({
      ok: true,
    });
    expect(
      await runActivity(activities.prepareFaxJob, { ...args, workflowId: `fax-default-${key}` }),
    ).toMatchObject({ ok: false, code: 'INVALID_REQUEST', message: expect.stringContaining('already used') });
  });
});
