import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFaxJob } from '../../src/db/fax-jobs';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxPolicy, FaxStatusObservation, FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, startTestStack, type TestStack } from '../support/test-stack';

/**
 * The two kinds of RingCentral account side by side, whatever FAXFLOW_TEST_STATUS_MODEL says:
 * faxflow learns per credential whether the account reports delivery (RINGCENTRAL_DELIVERY_REPORTS=auto).
 */
async function send(stack: TestStack, to: string, policy: Partial<FaxPolicy> = {}) {
  const jobId = uniqueJobId('model');
  await stack.faxClient.startFax({
    to,
    idempotencyKey: jobId,
    documents: [{ bytes: await makeSamplePdf(1, jobId), filename: 'a.pdf' }],
    policy: { ...FAST_POLICY, ...policy },
  });
  const handle = stack.client.workflow.getHandle(faxWorkflowId(jobId));
  return { jobId, handle, result: (await handle.result()) as FaxWorkflowResult };
}

/** What each readFaxStatus of the run answered, in order, and the timers started after the last one. */
async function polledStatuses(handle: ReturnType<TestStack['client']['workflow']['getHandle']>) {
  const { events } = await handle.fetchHistory();
  const readIds = new Set(
    events!
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'readFaxStatus')
      .map((e) => String(e.eventId)),
  );
  const answers = events!
    .filter((e) => readIds.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')))
    .map((e) => {
      const data = e.activityTaskCompletedEventAttributes!.result!.payloads![0]!.data!;
      return { at: Number(e.eventId), ...(JSON.parse(Buffer.from(data).toString()) as FaxStatusObservation) };
    });
  const lastRead = answers.at(-1)?.at ?? Infinity;
  const timersAfter = events!.filter((e) => e.timerStartedEventAttributes && Number(e.eventId) > lastRead);
  expect(timersAfter).toEqual([]);
  return answers;
}

describe('an account that does not report delivery (sent-final), deliveryReports auto', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { statusModel: 'sent-final' }, deliveryReports: 'auto' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('ends a fax to an ordinary number as Sent within one poll of Sent, not after the quiet period', async () => {
    // Polls every 500 ms; the quiet period (10 min) would outlast the test many times over.
    const policy = { pollInitialMs: 500, pollMaxMs: 500, pollGrowth: 1, sentQuietPeriodMs: 600_000 };
    const { jobId, handle, result } = await send(stack, '+12025550131', policy);
    expect(result).toMatchObject({ status: 'Sent', attempts: 1 });
    const row = await findFaxJob(stack.db, faxWorkflowId(jobId));
    expect(row).toMatchObject({ status: 'Sent' });
    expect(row?.completed_at).toBeInstanceOf(Date);
    // Exactly one fax went out, and the job's end follows the simulator's Sent by one poll at most.
    const [fax, ...others] = await stack.simFaxes('+12025550131');
    expect(others).toEqual([]);
    expect(fax!.history.map((h) => h.status)).toContain('Sent');
    const state = await handle.query(statusQuery);
    expect(state.timeline.at(-1)!.status).toBe('Sent');
    // The poll that first saw Sent was the last one, and no timer ran after it (the quiet period
    // would be one): the job ended on that poll.
    const polls = await polledStatuses(handle);
    expect(polls.filter((p) => p.status === 'Sent')).toHaveLength(1);
    expect(polls.at(-1)).toMatchObject({ status: 'Sent', sentIsFinal: true });
    await stack.maybeRecordHistory(handle.workflowId, 'sent-ends-at-first-poll');
  });

  it('redials a busy line reported as SendingFailed and gives up on an invalid number', async () => {
    const busy = await send(stack, '+15550000001');
    expect(busy.result).toMatchObject({ status: 'Sent', attempts: 3 });
    const invalid = await send(stack, '+15550000003');
    expect(invalid.result).toMatchObject({ status: 'Failed', attempts: 1, errorCode: 'InvalidNumber' });
    expect(await stack.simFaxes('+15550000003')).toHaveLength(1);
  });
});

describe('an account that reports delivery, deliveryReports auto', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      simulator: { statusModel: 'delivery-reports' },
      deliveryReports: 'auto',
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('takes Sent as final until it has seen a delivery report, then waits for one', async () => {
    // +15550000005 stays at Sent. Nothing is known about this credential yet: Sent is final.
    const first = await send(stack, '+15550000005', { sentQuietPeriodMs: 1_500 });
    expect(first.result.status).toBe('Sent');
    // A first poll late enough to see Delivered teaches faxflow that this account reports delivery.
    const delivered = await send(stack, '+12025550132', { pollInitialMs: 2_000 });
    expect(delivered.result.status).toBe('Delivered');
    // Other test files share this database (with credentials of their own): look at this fax's row.
    const learnt = await stack.db
      .selectFrom('ringcentral_delivery_reports')
      .selectAll()
      .where('message_id', '=', delivered.result.messageId!)
      .execute();
    expect(learnt).toMatchObject([{ first_status: 'Delivered', message_id: delivered.result.messageId }]);
    // Now Sent alone is no longer the end: the quiet period decides.
    const again = await send(stack, '+15550000005', { sentQuietPeriodMs: 1_500 });
    expect(again.result.status).toBe('SentUnconfirmed');
  });
});

describe('permission errors', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function setFlags(flags: Record<string, unknown>) {
    const res = await fetch(`${stack.simulator.url}/_sim/users/~`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flags }),
    });
    expect(res.ok).toBe(true);
  }

  it.each([
    [
      '+12025550141',
      { faxSendBlocked: 'MSG-340' },
      'MSG-340',
      /fax permission.*not available for extension type/,
    ],
    ['+12025550142', { faxSendBlocked: 'MSG-341' }, 'MSG-341', /fax permission.*not allowed for extension/],
    ['+12025550143', { missingAppScopes: ['Faxes'] }, 'CMN-401', /app lacks a permission/],
    ['+12025550144', { missingUserPermissions: ['OutboundFaxes'] }, 'CMN-408', /user lacks a permission/],
  ])('ends the job at once with a clear reason (%s: %j)', async (to, flags, code, reason) => {
    await setFlags(flags);
    try {
      const { result } = await send(stack, to, { sendRetryInitialMs: 100 });
      expect(result).toMatchObject({ status: 'Failed', attempts: 1, errorCode: code });
      expect(result.errorMessage).toMatch(reason);
      expect(await stack.simFaxes(to)).toEqual([]);
    } finally {
      await setFlags({});
    }
  });
});
