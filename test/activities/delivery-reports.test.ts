import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import type { DatabaseHandle } from '../../src/db/connection';
import { accountReportsDelivery, recordDeliveryReport } from '../../src/db/delivery-reports';
import { findFaxJob } from '../../src/db/fax-jobs';
import type { DeliveryReportsMode } from '../../src/domain/fax-status';
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

/** One sent fax of a fresh credential, with a message id the fake RingCentral knows. */
async function sentFax(mode?: DeliveryReportsMode, deps?: ActivityDeps) {
  const made = deps ?? (await makeActivityDeps(database, new FakeRingCentral())).deps;
  const withMode: ActivityDeps = { ...made, ...(mode && { deliveryReports: mode }) };
  const activities = createActivities(withMode);
  const pdf = await withMode.documents.put(await makeSamplePdf(1), {
    filename: 'a.pdf',
    contentType: 'application/pdf',
  });
  const jobId = uniqueJobId();
  const prepared = await runActivity(activities.prepareFaxJob, {
    jobId,
    workflowId: jobId,
    submittedAt: new Date().toISOString(),
    to: '+12025550123',
    documents: [pdf],
  });
  if (!prepared.ok) throw new Error(`fixture: ${prepared.message}`);
  const sent = await runActivity(activities.sendFax, {
    jobId,
    attemptNo: 1,
    recipient: prepared.recipient,
    documents: prepared.documents,
  });
  const rc = withMode.ringcentral as FakeRingCentral;
  const message = { jobId, attemptNo: 1, messageId: sent.messageId, recipient: prepared.recipient };
  return { deps: withMode, activities, rc, message };
}

describe('whether Sent is final for a credential', () => {
  it('auto: Sent is final until a delivery report was seen for the credential, then it is not', async () => {
    const first = await sentFax('auto');
    first.rc.setStatus(first.message.messageId, 'Sent');
    expect(await runActivity(first.activities.readFaxStatus, first.message)).toMatchObject({
      status: 'Sent',
      sentIsFinal: true,
    });
    first.rc.setStatus(first.message.messageId, 'Delivered');
    await runActivity(first.activities.readFaxStatus, first.message);

    // The next fax of the same credential waits for delivery, whichever path reports its Sent.
    const next = await sentFax('auto', first.deps);
    next.rc.setStatus(next.message.messageId, 'Sent');
    expect(await runActivity(next.activities.readFaxStatus, next.message)).toMatchObject({
      status: 'Sent',
      sentIsFinal: false,
    });
    expect(
      await runActivity(next.activities.recordFaxObservation, {
        ...next.message,
        known: 'Queued',
        observation: { status: 'Sent' },
        source: 'webhook',
      }),
    ).toEqual({ sentIsFinal: false });
    const learnt = await database.db
      .selectFrom('ringcentral_delivery_reports')
      .selectAll()
      .where('credential_key', '=', first.deps.credentialKey)
      .execute();
    expect(learnt).toMatchObject([{ first_status: 'Delivered', message_id: first.message.messageId }]);
  });

  it('yes and no override what was learnt', async () => {
    const yes = await sentFax('yes');
    yes.rc.setStatus(yes.message.messageId, 'Sent');
    expect(await runActivity(yes.activities.readFaxStatus, yes.message)).toMatchObject({
      sentIsFinal: false,
    });
    const no = await sentFax('no');
    no.rc.setStatus(no.message.messageId, 'Delivered');
    await runActivity(no.activities.readFaxStatus, no.message);
    no.rc.setStatus(no.message.messageId, 'Sent');
    expect(await runActivity(no.activities.readFaxStatus, no.message)).toMatchObject({ sentIsFinal: true });
  });

  it('a final Sent closes the job row (recordJobStatus with final)', async () => {
    const { activities, message } = await sentFax('no');
    await runActivity(activities.recordJobStatus, { jobId: message.jobId, status: 'Sent' });
    expect((await findFaxJob(database.db, message.jobId))?.completed_at).toBeNull();
    await runActivity(activities.recordJobStatus, { jobId: message.jobId, status: 'Sent', final: true });
    expect((await findFaxJob(database.db, message.jobId))?.completed_at).toBeInstanceOf(Date);
  });

  it('a process that has not seen the row yet stores it once without replacing the first; each then knows it', async () => {
    const credential = `cred-${randomUUID()}`;
    // Two processes: two pools on the same database.
    const other = testDatabase();
    try {
      expect(await accountReportsDelivery(other.db, credential)).toBe(false);
      await recordDeliveryReport(database.db, credential, { status: 'DeliveryFailed', messageId: 'm-1' });
      await recordDeliveryReport(other.db, credential, { status: 'Delivered', messageId: 'm-2' });
      await recordDeliveryReport(database.db, credential, { status: 'Delivered', messageId: 'm-3' });
      expect(await accountReportsDelivery(other.db, credential)).toBe(true);
      expect(await accountReportsDelivery(database.db, credential)).toBe(true);
      expect(
        await database.db
          .selectFrom('ringcentral_delivery_reports')
          .select(['first_status', 'message_id'])
          .where('credential_key', '=', credential)
          .execute(),
      ).toEqual([{ first_status: 'DeliveryFailed', message_id: 'm-1' }]);
    } finally {
      await other.close();
    }
  });
});
