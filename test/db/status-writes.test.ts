import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEND_LEASE } from '../../src/activities/send-lease';
import type { DatabaseHandle } from '../../src/db/connection';
import { claimSend, listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob, insertFaxJob } from '../../src/db/fax-jobs';
import { recordJobDecision, recordObservation, recordSentMessage } from '../../src/db/status-writes';
import { createTenant } from '../../src/db/tenants';
import { insertWebhookEndpoint } from '../../src/db/webhook-endpoints';
import { faxesFinal } from '../../src/metrics/metrics';
import { testCipher, testDatabase, uniqueJobId } from '../support/database';
import { faxJobRow } from '../support/fax-job-row';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

/** A job of its own tenant with attempt 1 leased to `token`, as sendFax has it before recording. */
async function leasedJob(opts: { endpoint?: boolean } = {}) {
  const tenant = `tenant-${randomUUID().slice(0, 8)}`;
  const jobId = uniqueJobId('writes');
  await insertFaxJob(database.db, faxJobRow(jobId, { tenant_id: tenant, status: 'Sending' }));
  if (opts.endpoint) {
    await createTenant(database.db, { id: tenant, name: tenant });
    await insertWebhookEndpoint(database.db, testCipher, {
      id: `we_${randomUUID()}`,
      tenantId: tenant,
      url: 'https://example.com/hook',
      events: ['fax.delivered'],
      secret: 'whsec_test',
    });
  }
  const token = randomUUID();
  const claim = await claimSend(database.db, {
    jobId,
    attemptNo: 1,
    credentialKey: `cred-${randomUUID()}`,
    recipient: '+12025550123',
    token,
    lease: true,
    ...DEFAULT_SEND_LEASE,
  });
  expect(claim.kind).toBe('acquired');
  return { jobId, tenant, token };
}

const finals = async (tenant: string, status: string) =>
  (await faxesFinal.get()).values.find((v) => v.labels.tenant === tenant && v.labels.status === status)
    ?.value ?? 0;

/**
 * The one-statement status writes of the send path (issue 13) write what the transactions they
 * replace wrote, and leave jobs whose tenant has webhook endpoints to those transactions (the
 * outbox row goes with the change).
 */
describe('one-statement status writes', () => {
  it('records the message fenced by the lease, then a Sent observation, then the final decision once', async () => {
    const { jobId, tenant, token } = await leasedJob();
    const sent = { jobId, attemptNo: 1, status: 'Queued', detail: null };
    expect(
      await recordSentMessage(database.db, { ...sent, token: 'not-the-holder', messageId: 'm-x' }),
    ).toEqual({
      won: false,
    });
    expect(await listFaxEvents(database.db, jobId)).toEqual([]);
    const messageId = `m-${randomUUID()}`;
    expect(await recordSentMessage(database.db, { ...sent, token, messageId })).toEqual({ won: true });
    expect(await findFaxJob(database.db, jobId)).toMatchObject({
      status: 'Queued',
      message_id: messageId,
      attempts: 1,
      error_code: null,
    });
    const [attempt] = await listFaxAttempts(database.db, jobId);
    expect(attempt).toMatchObject({ status: 'Queued', message_id: messageId, lease_token: token });
    expect(attempt!.lease_until!.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    // Recorded: a second execution holding the same token is fenced out.
    expect(await recordSentMessage(database.db, { ...sent, token, messageId: 'm-y' })).toEqual({
      won: false,
    });

    const seen = { jobId, attemptNo: 1, messageId, faxErrorCode: null, source: 'poll' };
    expect(await recordObservation(database.db, { ...seen, status: 'Sent', finished: false, pages: 3 })).toBe(
      true,
    );
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ status: 'Sent', pages: 3 });
    // A stale Queued is an event, but moves neither the attempt nor the job back.
    expect(await recordObservation(database.db, { ...seen, status: 'Queued', finished: false })).toBe(true);
    expect((await listFaxAttempts(database.db, jobId))[0]).toMatchObject({
      status: 'Sent',
      finished_at: null,
    });
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ status: 'Sent' });
    expect(await recordObservation(database.db, { ...seen, status: 'Delivered', finished: true })).toBe(true);
    expect((await listFaxAttempts(database.db, jobId))[0]!.finished_at).not.toBeNull();

    const before = await finals(tenant, 'Delivered');
    expect(
      await recordJobDecision(database.db, jobId, { status: 'Delivered', messageId, final: true }, null),
    ).toEqual({ changed: true });
    expect(
      await recordJobDecision(database.db, jobId, { status: 'Failed', errorCode: 'X' }, { errorCode: 'X' }),
    ).toEqual({ changed: false });
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ status: 'Delivered' });
    expect(await finals(tenant, 'Delivered')).toBe(before + 1);
    expect(await finals(tenant, 'Failed')).toBe(0);
    expect((await listFaxEvents(database.db, jobId)).map((e) => [e.status, e.source, e.attempt_no])).toEqual([
      ['Queued', 'send', 1],
      ['Sent', 'poll', 1],
      ['Queued', 'poll', 1],
      ['Delivered', 'poll', 1],
      ['Delivered', 'workflow', null],
    ]);
  });

  it('writes nothing for a tenant with a webhook endpoint, whose outbox rows need the transaction', async () => {
    const { jobId, token } = await leasedJob({ endpoint: true });
    const messageId = `m-${randomUUID()}`;
    expect(
      await recordSentMessage(database.db, {
        jobId,
        attemptNo: 1,
        token,
        messageId,
        status: 'Queued',
        detail: null,
      }),
    ).toBeUndefined();
    const seen = { jobId, attemptNo: 1, messageId, faxErrorCode: null, source: 'poll', finished: false };
    expect(await recordObservation(database.db, { ...seen, status: 'Sent' })).toBe(false);
    expect(
      await recordJobDecision(database.db, jobId, { status: 'Delivered', final: true }, null),
    ).toBeUndefined();
    expect(await findFaxJob(database.db, jobId)).toMatchObject({ status: 'Sending', message_id: null });
    expect((await listFaxAttempts(database.db, jobId))[0]).toMatchObject({
      status: 'Sending',
      message_id: null,
    });
    expect(await listFaxEvents(database.db, jobId)).toEqual([]);
  });
});
