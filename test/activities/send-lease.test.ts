import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import type { SendLeaseTimings } from '../../src/activities/send-lease';
import type { DatabaseHandle } from '../../src/db/connection';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { findFaxJob } from '../../src/db/fax-jobs';
import { RingCentralApiError, RingCentralNetworkError } from '../../src/ringcentral/errors';
import type { FaxMessage, SendFaxOptions, SendFaxRequest } from '../../src/ringcentral/types';
import { makeActivityDeps, runActivity, testDatabase, uniqueJobId } from '../support/database';
import { FakeRingCentral } from '../support/fake-ringcentral';
import { makeSamplePdf } from '../support/pdf-fixtures';

/** A RingCentral whose next upload hangs until the test lets it land (or the caller aborts it). */
class SlowRingCentral extends FakeRingCentral {
  uploading = 0;
  aborted = 0;
  private hold: { release: () => void } | undefined;
  private holdNext = false;

  holdNextUpload(): void {
    this.holdNext = true;
  }

  release(): void {
    this.hold?.release();
  }

  override async sendFax(request: SendFaxRequest, opts: SendFaxOptions = {}): Promise<FaxMessage> {
    if (this.holdNext) {
      this.holdNext = false;
      this.uploading++;
      await new Promise<void>((resolve, reject) => {
        this.hold = { release: resolve };
        opts.signal?.addEventListener('abort', () => {
          this.aborted++;
          reject(new RingCentralNetworkError('aborted', true));
        });
      });
    }
    return super.sendFax(request);
  }
}

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met');
}

async function setup(rc: FakeRingCentral, timings: Partial<SendLeaseTimings> = {}) {
  const made = await makeActivityDeps(database, rc);
  const deps: ActivityDeps = { ...made.deps, sendLease: timings };
  const activities = createActivities(deps);
  const pdf = await deps.documents.put(await makeSamplePdf(2), {
    filename: 'letter.pdf',
    contentType: 'application/pdf',
  });
  const jobId = uniqueJobId('lease');
  const prepared = await runActivity(activities.prepareFaxJob, {
    jobId,
    workflowId: jobId,
    submittedAt: new Date().toISOString(),
    to: '+12025550140',
    documents: [pdf],
  });
  if (!prepared.ok) throw new Error(prepared.message);
  const args = { jobId, attemptNo: 1, recipient: prepared.recipient, documents: prepared.documents };
  /** Another job of the same credential to the same number. */
  const neighbour = async () => {
    const other = uniqueJobId('lease-neighbour');
    const ready = await runActivity(activities.prepareFaxJob, {
      jobId: other,
      workflowId: other,
      submittedAt: new Date().toISOString(),
      to: '+12025550140',
      documents: [pdf],
    });
    if (!ready.ok) throw new Error(ready.message);
    return { jobId: other, attemptNo: 1, recipient: ready.recipient, documents: ready.documents };
  };
  return { deps, activities, args, jobId, neighbour };
}

describe('the send lease', () => {
  it('makes a retry wait out an execution that is still uploading, without listing or sending', async () => {
    const rc = new SlowRingCentral();
    const { activities, args, jobId } = await setup(rc, { renewMs: 50 });
    rc.holdNextUpload();
    const first = runActivity(activities.sendFax, args);
    await until(() => rc.uploading === 1);

    // Temporal's retry (the first execution timed out, or its worker looked dead) arrives now.
    const err = await runActivity(activities.sendFax, args, { attempt: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'SendWaiting', nonRetryable: false });
    expect((err as ApplicationFailure).nextRetryDelay).toBeGreaterThan(0);
    expect(rc.listCalls).toBe(0);
    expect(rc.sent).toHaveLength(0);

    rc.release();
    const sent = await first;
    // The next retry finds the recorded outcome: one fax in all.
    const again = await runActivity(activities.sendFax, args, { attempt: 3 });
    expect(again.messageId).toBe(sent.messageId);
    expect(rc.sent).toHaveLength(1);
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ message_id: sent.messageId });
  });

  it('waits the settle delay after a cut-off send before it lists', async () => {
    const rc = new FakeRingCentral();
    const { activities, args } = await setup(rc, { settleMs: 60_000 });
    rc.failNextSend(new RingCentralNetworkError('socket hang up', true));
    await expect(runActivity(activities.sendFax, args)).rejects.toMatchObject({
      type: 'RingCentralNetworkError',
    });
    const err = await runActivity(activities.sendFax, args, { attempt: 2 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'SendWaiting' });
    expect((err as ApplicationFailure).nextRetryDelay).toBeGreaterThan(50_000);
    expect(rc.listCalls).toBe(0);
    expect(rc.sent).toHaveLength(0);
  });

  it.each([
    ['a cut-off upload', new RingCentralNetworkError('socket hang up', true)],
    ['a 502 without Retry-After', new RingCentralApiError(502, 'Bad Gateway', 'upstream reset')],
  ])(
    'retries %s after the settle delay, however many attempts its waits for the number used up',
    async (_label, failure) => {
      // Issue 13, chaos all-faults at full size: a send that had waited for its number through
      // dozens of SendWaiting attempts and was then cut off got Temporal's attempt-based backoff
      // (1 min at the cap) before its retry could resolve it, and every job to that number waited
      // behind it. The retry can act as soon as the settle delay has passed: that is when it comes.
      const rc = new FakeRingCentral();
      const { activities, args } = await setup(rc, { settleMs: 4_000 });
      rc.failNextSend(failure);
      const err = await runActivity(activities.sendFax, args, { attempt: 40 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      const delay = (err as ApplicationFailure).nextRetryDelay;
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(4_000 * 1.25);
      expect(rc.sent).toHaveLength(0);
    },
  );

  it('keeps a longer Retry-After of an ambiguous 503 over the settle delay', async () => {
    const rc = new FakeRingCentral();
    const { activities, args } = await setup(rc, { settleMs: 4_000 });
    rc.failNextSend(new RingCentralApiError(503, 'CMN-211', 'overloaded', 30));
    const err = await runActivity(activities.sendFax, args, { attempt: 3 }).catch((e: unknown) => e);
    const delay = (err as ApplicationFailure).nextRetryDelay;
    expect(delay).toBeGreaterThanOrEqual(30_000);
    expect(delay).toBeLessThanOrEqual(30_000 * 1.25);
  });

  it("fences record(): a late execution cannot overwrite the retry's message id", async () => {
    const rc = new SlowRingCentral();
    // The lease is never renewed, so it lapses while the first upload hangs (a partitioned worker).
    const { activities, args, jobId } = await setup(rc, { leaseMs: 0, renewMs: 3_600_000, settleMs: 0 });
    rc.holdNextUpload();
    const late = runActivity(activities.sendFax, args).catch((e: unknown) => e);
    await until(() => rc.uploading === 1);
    const retry = await runActivity(activities.sendFax, args, { attempt: 2 });
    expect(retry.adopted).toBe(false);

    rc.release();
    expect(await late).toMatchObject({ type: 'SendLeaseLost' });
    expect(await listFaxAttempts(database.db, jobId)).toMatchObject([{ message_id: retry.messageId }]);
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ message_id: retry.messageId });
  });

  it('aborts the upload on the socket when another execution took the lease', async () => {
    const rc = new SlowRingCentral();
    const { activities, args, jobId } = await setup(rc, { renewMs: 20 });
    rc.holdNextUpload();
    const first = runActivity(activities.sendFax, args).catch((e: unknown) => e);
    await until(() => rc.uploading === 1);
    await database.db
      .updateTable('fax_attempts')
      .set({ lease_token: 'someone-else' })
      .where('job_id', '=', jobId)
      .execute();
    await until(() => rc.aborted === 1);
    expect(await first).toBeInstanceOf(ApplicationFailure);
    expect(rc.sent).toHaveLength(0);
  });

  it("checks again within seconds while another job's send to the same number is under way", async () => {
    // Issue 13: a second fax to a number waited for the first one's whole lease plus the settle
    // delay (~30 s) although that send was recorded a moment later; at the scaled rate bench that
    // tail, not the budget, set the figure.
    const rc = new SlowRingCentral();
    const { activities, args, neighbour } = await setup(rc, { renewMs: 50 });
    const second = await neighbour();
    rc.holdNextUpload();
    const first = runActivity(activities.sendFax, args);
    await until(() => rc.uploading === 1);

    const err = await runActivity(activities.sendFax, second).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'SendWaiting' });
    expect((err as ApplicationFailure).message).toContain('same number');
    expect((err as ApplicationFailure).nextRetryDelay).toBeLessThanOrEqual(2_500);
    expect(rc.sent).toHaveLength(0);

    rc.release();
    const sent = await first;
    const again = await runActivity(activities.sendFax, second, { attempt: 2 });
    expect(again.messageId).not.toBe(sent.messageId);
    expect(rc.sent).toHaveLength(2);
  });

  it("still waits out the settle delay behind another job's cut-off send to the same number", async () => {
    const rc = new FakeRingCentral();
    const { activities, args, neighbour } = await setup(rc, { settleMs: 60_000 });
    const second = await neighbour();
    rc.failNextSend(new RingCentralNetworkError('socket hang up', true));
    await expect(runActivity(activities.sendFax, args)).rejects.toMatchObject({
      type: 'RingCentralNetworkError',
    });
    const err = await runActivity(activities.sendFax, second).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'SendWaiting' });
    expect((err as ApplicationFailure).message).toContain('same number');
    expect((err as ApplicationFailure).nextRetryDelay).toBeGreaterThan(50_000);
    expect(rc.sent).toHaveLength(0);
  });
});
