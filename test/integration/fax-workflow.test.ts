import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob } from '../../src/db/fax-jobs';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { FaxStatusKey } from '../../src/contracts/search-attributes';
import { deliveryStatusSignal, statusQuery } from '../../src/contracts/workflow-messages';
import { SLOW_SEND_MS, type FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { uniqueJobId } from '../support/database';
import { upsertsOf } from '../support/upserts';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function sendAndWait(to: string, opts: { pages?: number; policy?: object; history?: string } = {}) {
  const pdf = await makeSamplePdf(opts.pages ?? 1);
  const jobId = uniqueJobId();
  await stack.faxClient.startFax({
    to,
    idempotencyKey: jobId,
    documents: [{ bytes: pdf, filename: 'letter.pdf' }],
    policy: { ...FAST_POLICY, ...opts.policy },
  });
  const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
  const result = (await handle.result()) as FaxWorkflowResult;
  if (opts.history) await stack.maybeRecordHistory(handle.workflowId, opts.history);
  return { jobId, pdf, result, handle };
}

describe('FaxWorkflow against the simulator', () => {
  it('delivers a fax, records it in Postgres and in the FaxStatus search attribute', async () => {
    const { jobId, pdf, result, handle } = await sendAndWait('+12025550123', {
      pages: 3,
      history: 'delivered',
    });
    expect(result).toMatchObject({ status: OUTCOME.success, recipient: '+12025550123', attempts: 1 });

    const row = await findFaxJob(stack.db, faxWorkflowId(jobId));
    expect(row).toMatchObject({
      status: OUTCOME.success,
      pages: 3,
      attempts: 1,
      message_id: result.messageId,
    });
    expect(row?.completed_at).toBeInstanceOf(Date);
    const events = await listFaxEvents(stack.db, faxWorkflowId(jobId));
    expect(events.map((e) => e.status)).toEqual(
      expect.arrayContaining(['Validated', 'Queued', OUTCOME.success]),
    );

    // The simulator received exactly one fax, carrying our document's exact bytes.
    const faxes = await stack.simFaxes('+12025550123');
    const ours = faxes.filter((f) => String(f.id) === result.messageId);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.attachments[0]!.sha256).toBe(createHash('sha256').update(pdf).digest('hex'));

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(FaxStatusKey)).toBe(OUTCOME.success);
  });

  it('redials a busy line with backoff and records every attempt', async () => {
    const { jobId, result } = await sendAndWait('+15550000001', { history: 'busy-then-delivered' });
    expect(result).toMatchObject({ status: OUTCOME.success, attempts: 3 });
    const attempts = await listFaxAttempts(stack.db, faxWorkflowId(jobId));
    expect(attempts.map((a) => [a.status, a.fax_error_code])).toEqual([
      [OUTCOME.lineFailure, 'LineBusy'],
      [OUTCOME.lineFailure, 'LineBusy'],
      [OUTCOME.success, null],
    ]);
    expect(new Set(attempts.map((a) => a.message_id)).size).toBe(3);
  });

  it('gives up at once on an invalid number', async () => {
    const { jobId, result } = await sendAndWait('+15550000003', { history: 'invalid-number' });
    expect(result).toMatchObject({ status: 'Failed', attempts: 1, errorCode: 'InvalidNumber' });
    expect(await findFaxJob(stack.db, faxWorkflowId(jobId))).toMatchObject({
      status: 'Failed',
      error_code: 'InvalidNumber',
    });

    // What an operator types into the Temporal UI's list filter finds it (visibility lags a little).
    const query = `FaxStatus = "Failed" AND FaxRecipient = "+15550000003" AND TaskQueue = "${stack.taskQueue}"`;
    let found: string[] = [];
    for (let i = 0; i < 50 && !found.includes(faxWorkflowId(jobId)); i++) {
      found = [];
      for await (const wf of stack.client.workflow.list({ query })) found.push(wf.workflowId);
      if (!found.includes(faxWorkflowId(jobId))) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toContain(faxWorkflowId(jobId));
  });

  it('stops after maxAttempts when the line never answers', async () => {
    const { result } = await sendAndWait('+15550000002', { policy: { maxAttempts: 2 } });
    expect(result).toMatchObject({ status: 'Failed', attempts: 2, errorCode: 'NoAnswer' });
  });

  it('counts a fax that stays at Sent as success (at once where Sent is final, else after the quiet period)', async () => {
    const { result } = await sendAndWait('+15550000005', { policy: { sentQuietPeriodMs: 1_500 } });
    expect(result.status).toBe(OUTCOME.silentSuccess);
  });

  it('records a rejection when the stored document is not a fax document', async () => {
    const ref = await stack.documents.put(Buffer.from([0, 1, 2, 3, 255]), {
      filename: 'x.bin',
      contentType: 'application/octet-stream',
    });
    const jobId = uniqueJobId();
    const handle = await stack.client.workflow.start('FaxWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: faxWorkflowId(jobId),
      args: [{ jobId, to: '+12025550123', documents: [ref] }],
    });
    const result = (await handle.result()) as FaxWorkflowResult;
    expect(result).toMatchObject({ status: 'Rejected', errorCode: 'UNSUPPORTED_TYPE', attempts: 0 });
    await stack.maybeRecordHistory(handle.workflowId, 'rejected');
    expect(await findFaxJob(stack.db, faxWorkflowId(jobId))).toMatchObject({
      status: 'Rejected',
      error_code: 'UNSUPPORTED_TYPE',
    });
    expect(await stack.simFaxes()).not.toContainEqual(
      expect.objectContaining({ attachments: [expect.objectContaining({ sha256: ref.sha256 })] }),
    );
  });

  it('starts one workflow and sends one fax however often a job is submitted', async () => {
    const jobId = uniqueJobId('dup');
    const request = {
      to: '+12025550188',
      idempotencyKey: jobId,
      documents: [{ bytes: await makeSamplePdf(1, jobId), filename: 'a.pdf' }],
      policy: FAST_POLICY,
    };
    const outcomes = await Promise.all([
      stack.faxClient.startFax(request),
      stack.faxClient.startFax(request),
    ]);
    const again = await stack.faxClient.startFax(request);
    expect(outcomes.map((o) => o.workflowId)).toEqual([faxWorkflowId(jobId), faxWorkflowId(jobId)]);
    await stack.client.workflow.getHandle(faxWorkflowId(jobId)).result();
    const afterwards = await stack.faxClient.startFax(request);
    expect([again.started, afterwards.started]).toEqual([false, false]);
    expect(await stack.simFaxes('+12025550188')).toHaveLength(1);
  });

  it('ends a status wait at once on a deliveryStatus signal', async () => {
    const jobId = uniqueJobId();
    // Polling would not look for a minute; only the signal can finish this in time.
    await stack.faxClient.startFax({
      to: '+15550000004',
      idempotencyKey: jobId,
      documents: [{ bytes: await makeSamplePdf(1), filename: 'a.pdf' }],
      policy: { ...FAST_POLICY, pollInitialMs: 60_000, pollMaxMs: 60_000 },
    });
    const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
    let messageId: string | undefined;
    while (!messageId) {
      messageId = (await findFaxJob(stack.db, faxWorkflowId(jobId)))?.message_id ?? undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
    await handle.signal(deliveryStatusSignal, { messageId: 'some-other-message', status: 'DeliveryFailed' });
    await handle.signal(deliveryStatusSignal, { messageId, status: OUTCOME.success });
    const started = Date.now();
    const result = (await handle.result()) as FaxWorkflowResult;
    expect(result.status).toBe(OUTCOME.success);
    await stack.maybeRecordHistory(handle.workflowId, 'signal-delivered-quiet-queued');
    expect(Date.now() - started).toBeLessThan(30_000);
    // input.mergedUpserts: the client's start set FaxRecipient, so the run never upserts it, and
    // FaxMessageId goes out in the same upsert as the next status shown. input.quietStatuses and
    // quietQueued: no Sending for a send that answered at once, no Queued for a message whose
    // outcome came within SLOW_SEND_MS (the workflow's own clock says which), no patch marker.
    const upserts = (await upsertsOf(handle)).map((u) => u.names);
    const timeline = (await handle.query(statusQuery)).timeline;
    const at = (status: string) => Date.parse(timeline.find((e) => e.status === status)!.at);
    // Timeline times are task times and the show timer starts when its task ends: past SLOW_SEND_MS
    // by a few ms the signal's task may still have come first, so only then may there be one.
    if (at(OUTCOME.success) - at('Queued') < SLOW_SEND_MS)
      expect(upserts).toEqual([['FaxMessageId', 'FaxStatus']]);
    else expect(upserts.slice(-1)).toEqual([['FaxStatus']]);
    expect(upserts[0]).toEqual(['FaxMessageId', 'FaxStatus']);
    expect((await handle.describe()).typedSearchAttributes.get(FaxStatusKey)).toBe(OUTCOME.success);
    const events = await listFaxEvents(stack.db, faxWorkflowId(jobId));
    expect(events.find((e) => e.status === OUTCOME.success)?.source).toBe('webhook');
  });

  it('records a cancellation from the Temporal UI while the fax waits for its send time', async () => {
    const jobId = uniqueJobId();
    await stack.faxClient.startFax({
      to: '+12025550123',
      idempotencyKey: jobId,
      sendAt: new Date(Date.now() + 3 * 24 * 3600_000),
      documents: [{ bytes: await makeSamplePdf(1), filename: 'a.pdf' }],
      policy: FAST_POLICY,
    });
    const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
    while ((await handle.query(statusQuery)).status !== 'Scheduled')
      await new Promise((r) => setTimeout(r, 50));
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect(await findFaxJob(stack.db, faxWorkflowId(jobId))).toMatchObject({
      status: 'Canceled',
      message_id: null,
    });
    await stack.maybeRecordHistory(handle.workflowId, 'scheduled-then-canceled');
  });
});
