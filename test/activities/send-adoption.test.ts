import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import type { DatabaseHandle } from '../../src/db/connection';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob } from '../../src/db/fax-jobs';
import {
  RingCentralApiError,
  RingCentralAuthError,
  RingCentralNetworkError,
} from '../../src/ringcentral/errors';
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

/** One credential (one fake RingCentral extension) and a way to prepare jobs on it. */
async function account() {
  const rc = new FakeRingCentral();
  const made = await makeActivityDeps(database, rc);
  const deps: ActivityDeps = { ...made.deps, sendLease: { settleMs: 0 } };
  const activities = createActivities(deps);
  async function job(to: string, filename: string) {
    const pdf = await deps.documents.put(await makeSamplePdf(2, filename), {
      filename,
      contentType: 'application/pdf',
    });
    const jobId = uniqueJobId('adopt');
    const prepared = await runActivity(activities.prepareFaxJob, {
      jobId,
      workflowId: jobId,
      submittedAt: new Date().toISOString(),
      to,
      documents: [pdf],
    });
    if (!prepared.ok) throw new Error(prepared.message);
    return {
      jobId,
      args: {
        jobId,
        attemptNo: 1,
        recipient: prepared.recipient,
        documents: prepared.documents,
        coverIndex: 0,
      },
    };
  }
  /** A person faxing from the same extension with RingCentral's own app. */
  async function sendByHand(to: string, filename: string, pages: number) {
    const m = await rc.sendFax({
      to: [{ phoneNumber: to }],
      documents: [{ filename, contentType: 'application/pdf', content: Buffer.from('x') }],
    });
    rc.messages.get(m.id)!.faxPageCount = pages;
    return m.id;
  }
  return { rc, activities, job, sendByHand };
}

const cutOff = () => new RingCentralNetworkError('socket hang up', true);

describe('adopting a cut-off send', () => {
  it("never takes another job's fax: A's request never arrived, B's was accepted unanswered", async () => {
    const { rc, activities, job } = await account();
    const a = await job('+12025550150', 'a.pdf');
    const b = await job('+12025550150', 'b.pdf');

    rc.failNextSend(cutOff()); // A's request never reached RingCentral
    await expect(runActivity(activities.sendFax, a.args)).rejects.toMatchObject({
      type: 'RingCentralNetworkError',
    });
    // B may not send to the number while A's outcome is unknown: it waits its turn durably.
    const bWaits = await runActivity(activities.sendFax, b.args).catch((e: unknown) => e);
    expect(bWaits).toMatchObject({ type: 'SendWaiting', nonRetryable: false });
    expect((bWaits as ApplicationFailure).nextRetryDelay).toBeGreaterThan(0);

    const aSent = await runActivity(activities.sendFax, a.args, { attempt: 2 });
    expect(aSent.adopted).toBe(false);

    rc.failNextSend(cutOff(), { butAccept: true }); // B's fax is stored, the answer lost
    await expect(runActivity(activities.sendFax, b.args, { attempt: 2 })).rejects.toBeInstanceOf(
      ApplicationFailure,
    );
    const bSent = await runActivity(activities.sendFax, b.args, { attempt: 3 });
    expect(bSent.adopted).toBe(true);

    // Counted from the fake RingCentral: one fax each, each with its own document.
    expect(rc.sent.map((s) => s.request.documents[0]!.filename).sort()).toEqual(['a.pdf', 'b.pdf']);
    expect(rc.sent.find((s) => s.id === aSent.messageId)?.request.documents[0]!.filename).toBe('a.pdf');
    expect(rc.sent.find((s) => s.id === bSent.messageId)?.request.documents[0]!.filename).toBe('b.pdf');
  });

  it('does not adopt a fax a person sent by hand to the same number inside the window', async () => {
    const { rc, activities, job, sendByHand } = await account();
    const a = await job('+12025550151', 'a.pdf');
    rc.failNextSend(cutOff());
    await expect(runActivity(activities.sendFax, a.args)).rejects.toBeInstanceOf(ApplicationFailure);
    const byHand = await sendByHand('+12025550151', 'scan.pdf', 2);

    const sent = await runActivity(activities.sendFax, a.args, { attempt: 2 });
    expect(sent.adopted).toBe(false);
    expect(sent.messageId).not.toBe(byHand);
    expect(rc.sent.map((s) => s.request.documents[0]!.filename).sort()).toEqual(['a.pdf', 'scan.pdf']);
  });

  it('does not adopt a fax with the same file name but another page count', async () => {
    const { rc, activities, job, sendByHand } = await account();
    const a = await job('+12025550152', 'a.pdf');
    rc.failNextSend(cutOff());
    await expect(runActivity(activities.sendFax, a.args)).rejects.toBeInstanceOf(ApplicationFailure);
    const byHand = await sendByHand('+12025550152', 'a.pdf', 7);
    const sent = await runActivity(activities.sendFax, a.args, { attempt: 2 });
    expect(sent.adopted).toBe(false);
    expect(sent.messageId).not.toBe(byHand);
  });

  it('holds the job for review, with the evidence, when two faxes fit equally', async () => {
    const { rc, activities, job, sendByHand } = await account();
    const a = await job('+12025550153', 'a.pdf');
    rc.failNextSend(cutOff(), { butAccept: true });
    await expect(runActivity(activities.sendFax, a.args)).rejects.toBeInstanceOf(ApplicationFailure);
    rc.messages.get(rc.sent[0]!.id)!.coverIndex = 0;
    const twin = await sendByHand('+12025550153', 'a.pdf', 2);
    rc.messages.get(twin)!.coverIndex = 0;

    const err = await runActivity(activities.sendFax, a.args, { attempt: 2 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'NeedsReview', nonRetryable: true });
    expect(rc.sent).toHaveLength(2); // nothing more was sent
    expect(await listFaxAttempts(database.db, a.jobId)).toMatchObject([
      { status: 'NeedsReview', message_id: null },
    ]);
    const review = (await listFaxEvents(database.db, a.jobId)).find((e) => e.status === 'NeedsReview');
    const ids = (review?.detail as { candidates: { messageId: string }[] }).candidates.map(
      (c) => c.messageId,
    );
    expect(ids.sort()).toEqual([rc.sent[0]!.id, twin].sort());
  });
});

describe('auth failures on the send path', () => {
  it('are retried, never final, and show on the job while they last', async () => {
    const { rc, activities, job } = await account();
    const a = await job('+12025550154', 'a.pdf');
    rc.failNextSend(new RingCentralAuthError('token endpoint answered 503', 503));
    await expect(runActivity(activities.sendFax, a.args)).rejects.toMatchObject({
      type: 'RingCentralAuthUnavailable',
      nonRetryable: false,
    });
    expect(await findFaxJob(database.db, a.jobId)).toMatchObject({
      error_code: 'RingCentralAuthUnavailable',
    });
    // A refresh refused with invalid_grant is the login's trouble, not the fax's.
    rc.failNextSend(new RingCentralApiError(400, 'invalid_grant', 'Token is revoked'));
    await expect(runActivity(activities.sendFax, a.args, { attempt: 2 })).rejects.toMatchObject({
      type: 'RingCentralAuthUnavailable',
      nonRetryable: false,
    });
    const sent = await runActivity(activities.sendFax, a.args, { attempt: 3 });
    expect(await findFaxJob(database.db, a.jobId)).toMatchObject({
      status: 'Queued',
      message_id: sent.messageId,
      error_code: null,
    });
    expect(rc.sent).toHaveLength(1);
  });

  it('never fail a status check', async () => {
    const { rc, activities, job } = await account();
    const a = await job('+12025550155', 'a.pdf');
    const sent = await runActivity(activities.sendFax, a.args);
    rc.getMessage = () => Promise.reject(new RingCentralApiError(400, 'OAU-211', 'Token is revoked'));
    const ref = { jobId: a.jobId, attemptNo: 1, messageId: sent.messageId, recipient: a.args.recipient };
    await expect(runActivity(activities.readFaxStatus, ref)).rejects.toMatchObject({
      type: 'RingCentralAuthUnavailable',
      nonRetryable: false,
    });
    await expect(runActivity(activities.checkFaxStatus, ref)).rejects.toMatchObject({
      type: 'RingCentralAuthUnavailable',
      nonRetryable: false,
    });
  });
});

describe('recordFaxObservation', () => {
  it('cannot move an attempt backwards, whatever a stale execution believes', async () => {
    const { activities, job } = await account();
    const a = await job('+12025550156', 'a.pdf');
    const sent = await runActivity(activities.sendFax, a.args);
    const ref = { jobId: a.jobId, attemptNo: 1, messageId: sent.messageId, recipient: a.args.recipient };
    await runActivity(activities.recordFaxObservation, {
      ...ref,
      known: 'Sent',
      observation: { status: 'Delivered' },
      source: 'webhook',
    });
    // A poll read before the webhook, recorded after it, by an execution that knew nothing.
    await runActivity(activities.recordFaxObservation, {
      ...ref,
      observation: { status: 'Sent' },
      source: 'poll',
    });
    expect(await listFaxAttempts(database.db, a.jobId)).toMatchObject([{ status: 'Delivered' }]);
    expect(await findFaxJob(database.db, a.jobId)).not.toMatchObject({ status: 'Sent' });
  });
});
