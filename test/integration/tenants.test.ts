import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaxStatusKey, TenantIdKey, ConnectionIdKey } from '../../src/contracts/search-attributes';
import { faxWorkflowId, legacyFaxWorkflowId } from '../../src/contracts/workflow-ids';
import { statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { findFaxJob, findFaxJobByKey } from '../../src/db/fax-jobs';
import { notifyConnectionRestored } from '../../src/webhooks/connection-restored';
import { uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

/**
 * Three tenants, each with its own RingCentral connection (a user of the simulator's account):
 * their faxes leave from their own extensions, their budgets are independent, their keys are
 * their own, and one tenant's lost connection stops nobody else.
 */
const TENANTS = {
  acme: { connectionId: 'conn-acme', jwt: 'jwt-acme', name: 'Acme Sender' },
  globex: { connectionId: 'conn-globex', jwt: 'jwt-globex', name: 'Globex Sender' },
  initech: { connectionId: 'conn-initech', jwt: 'jwt-initech', name: 'Initech Sender' },
} as const;
type Tenant = keyof typeof TENANTS;

/** Our Heavy budget: 10 sends per window, per connection. */
const WINDOW_MS = 3_000;

let stack: TestStack;
let pdf: Uint8Array;
const extensionOf = new Map<Tenant, string>();
beforeAll(async () => {
  stack = await startTestStack({
    simulator: {
      // The account's own limits are not what is tested here: our budgets are.
      rateLimits: false,
      extraUsers: Object.values(TENANTS).map((t) => ({ jwt: t.jwt, name: t.name })),
    },
    connections: Object.values(TENANTS).map((t) => ({ id: t.connectionId, jwt: t.jwt })),
    budgets: { Heavy: 10 },
    budgetWindowMs: WINDOW_MS,
    // Over budget, a send gives its worker slot back and retries when its slot is due, instead of
    // holding one of the send queue's few slots that another tenant's send needs.
    connectionBudgetMaxWaitMs: 0,
  });
  pdf = await makeSamplePdf(1);
  const { users } = (await (await fetch(`${stack.simulator.url}/_sim/users`)).json()) as {
    users: { extensionId: string; name: string }[];
  };
  for (const [tenant, t] of Object.entries(TENANTS) as [Tenant, (typeof TENANTS)[Tenant]][]) {
    extensionOf.set(tenant, users.find((u) => u.name === t.name)!.extensionId);
  }
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

function submit(tenant: Tenant, to: string, key = uniqueJobId()) {
  return stack.faxClient
    .startFax({
      to,
      tenantId: tenant,
      connectionId: TENANTS[tenant].connectionId,
      idempotencyKey: key,
      documents: [{ bytes: pdf, filename: 'letter.pdf' }],
      policy: FAST_POLICY,
    })
    .then((started) => ({ ...started, key }));
}

async function resultOf(workflowId: string): Promise<FaxWorkflowResult> {
  return (await stack.client.workflow.getHandle(workflowId).result()) as FaxWorkflowResult;
}

/** When our send activity recorded RingCentral's acceptance of the job's fax (database clock). */
async function queuedAt(workflowId: string): Promise<number> {
  const row = await stack.db
    .selectFrom('fax_events')
    .select('observed_at')
    .where('job_id', '=', workflowId)
    .where('source', '=', 'send')
    .orderBy('id')
    .executeTakeFirstOrThrow();
  return row.observed_at.getTime();
}

async function eventAt(workflowId: string, status: string): Promise<number> {
  const row = await stack.db
    .selectFrom('fax_events')
    .select('observed_at')
    .where('job_id', '=', workflowId)
    .where('status', '=', status)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  return row.observed_at.getTime();
}

async function waitForStatus(workflowId: string, status: string): Promise<void> {
  const handle = stack.client.workflow.getHandle(workflowId);
  for (let i = 0; i < 300; i++) {
    if ((await handle.query(statusQuery)).status === status) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${workflowId} never reached ${status}`);
}

describe('tenants on their own RingCentral connections', () => {
  it("sends each tenant's faxes from its own extension; a 50-fax burst does not delay another tenant", async () => {
    const burst = await Promise.all(
      Array.from({ length: 50 }, (_, i) => submit('acme', `+1202555${String(1000 + i)}`)),
    );
    const globex = await submit('globex', '+12025559000');
    const initech = await submit('initech', '+12025559001');

    const results = await Promise.all([...burst, globex, initech].map((s) => resultOf(s.workflowId)));
    expect(results.every((r) => r.status === OUTCOME.success)).toBe(true);

    // Exactly one fax each, from the tenant's own extension.
    const faxes = await stack.simFaxes();
    const owner = (messageId: string | undefined) =>
      faxes.find((f) => String(f.id) === messageId)?.extensionId;
    expect(new Set(results.slice(0, 50).map((r) => owner(r.messageId)))).toEqual(
      new Set([extensionOf.get('acme')]),
    );
    expect(owner(results[50]!.messageId)).toBe(extensionOf.get('globex'));
    expect(owner(results[51]!.messageId)).toBe(extensionOf.get('initech'));
    const sentTo = (n: string) => faxes.filter((f) => f.recipientHistory.some((h) => h.phoneNumber === n));
    expect(sentTo('+12025559000')).toHaveLength(1);

    // Acme's burst was spread over at least 4 windows (10 sends per window)...
    const acmeTimes = await Promise.all(burst.map((s) => queuedAt(s.workflowId)));
    expect(Math.max(...acmeTimes) - Math.min(...acmeTimes)).toBeGreaterThanOrEqual(4 * WINDOW_MS - 500);
    // ...while Globex's single fax, once validated, went out within one budget window (its own
    // budget had every slot free), long before Acme's burst was through.
    const globexQueued = await queuedAt(globex.workflowId);
    const globexSendDelay = globexQueued - (await eventAt(globex.workflowId, 'Validated'));
    expect(globexSendDelay).toBeLessThan(WINDOW_MS);
    expect(globexQueued).toBeLessThan(Math.max(...acmeTimes) - 2 * WINDOW_MS);

    // The job records its tenant and connection, in Postgres and in its search attributes.
    expect(await findFaxJob(stack.db, globex.workflowId)).toMatchObject({
      tenant_id: 'globex',
      job_key: globex.key,
      connection_id: 'conn-globex',
    });
    const attrs = (await stack.client.workflow.getHandle(globex.workflowId).describe()).typedSearchAttributes;
    expect(attrs.get(TenantIdKey)).toBe('globex');
    expect(attrs.get(ConnectionIdKey)).toBe('conn-globex');
  }, 180_000);

  it('gives two tenants that use the same idempotency key two jobs', async () => {
    const key = uniqueJobId('shared');
    const [a, b] = await Promise.all([
      submit('acme', '+12025559100', key),
      submit('globex', '+12025559101', key),
    ]);
    expect(a).toMatchObject({ started: true, workflowId: faxWorkflowId(key, 'acme') });
    expect(b).toMatchObject({ started: true, workflowId: faxWorkflowId(key, 'globex') });
    const [ra, rb] = await Promise.all([resultOf(a.workflowId), resultOf(b.workflowId)]);
    expect(ra.status).toBe(OUTCOME.success);
    expect(rb.status).toBe(OUTCOME.success);
    expect(ra.messageId).not.toBe(rb.messageId);
    expect(await findFaxJobByKey(stack.db, 'acme', key)).toMatchObject({ recipient: '+12025559100' });
    expect(await findFaxJobByKey(stack.db, 'globex', key)).toMatchObject({ recipient: '+12025559101' });
    // Each tenant sees only its own job under the key.
    expect((await stack.faxClient.getFax(key, 'acme'))?.state.recipient).toBe('+12025559100');
    expect((await stack.faxClient.getFax(key, 'globex'))?.state.recipient).toBe('+12025559101');
    expect(await stack.faxClient.getFax(key, 'initech')).toBeUndefined();
    // The same request again under the same key is the same job.
    expect(await submit('acme', '+12025559100', key)).toMatchObject({
      started: false,
      workflowId: a.workflowId,
    });
  }, 60_000);

  it('holds a tenant whose connection needs reconnecting, and carries on once it is back; others are unaffected', async () => {
    await stack.setConnectionStatus(
      'conn-initech',
      'needs-reconnect',
      'RingCentral refused the refresh token (OAU-211)',
    );
    const waiting = await Promise.all([submit('initech', '+12025559200'), submit('initech', '+12025559201')]);
    for (const w of waiting) await waitForStatus(w.workflowId, 'WaitingForConnection');
    for (const w of waiting) {
      // The query shows the status as soon as the workflow sets it; the row and the search
      // attribute follow in the same workflow task's activity and upsert.
      await vi.waitFor(
        async () => {
          expect(await findFaxJob(stack.db, w.workflowId)).toMatchObject({
            status: 'WaitingForConnection',
            error_code: 'CONNECTION_UNAVAILABLE',
            completed_at: null,
          });
          const attrs = (await stack.client.workflow.getHandle(w.workflowId).describe())
            .typedSearchAttributes;
          expect(attrs.get(FaxStatusKey)).toBe('WaitingForConnection');
        },
        { timeout: 15_000, interval: 100 },
      );
    }

    // Another tenant sends meanwhile as if nothing happened.
    const acme = await submit('acme', '+12025559202');
    expect((await resultOf(acme.workflowId)).status).toBe(OUTCOME.success);
    expect(await stack.simFaxes('+12025559200')).toHaveLength(0);

    // The tenant reconnects: the connect callback tells the waiting jobs.
    await stack.setConnectionStatus('conn-initech', 'active');
    expect(await notifyConnectionRestored(stack.client, stack.db, 'conn-initech')).toBeGreaterThanOrEqual(2);
    const results = await Promise.all(waiting.map((w) => resultOf(w.workflowId)));
    expect(results.map((r) => r.status)).toEqual([OUTCOME.success, OUTCOME.success]);
    const faxes = [...(await stack.simFaxes('+12025559200')), ...(await stack.simFaxes('+12025559201'))];
    expect(faxes.map((f) => f.extensionId)).toEqual([extensionOf.get('initech'), extensionOf.get('initech')]);
    const timeline = (await stack.client.workflow.getHandle(waiting[0]!.workflowId).query(statusQuery))
      .timeline;
    expect(timeline.map((e) => e.status)).toContain('WaitingForConnection');
  }, 60_000);

  it("never takes a new key for another of the tenant's jobs whose id it spells in the form from before tenants", async () => {
    // `fax-<key>` was a job id before tenants. Tenant acme's key `acme-<k>` spells `fax-acme-<k>`
    // in that form, which is acme's own job `<k>`; so is the default tenant's `default-<k>`. Such a
    // key was answered with that other job (or refused as reused), and its fax never sent.
    const first = await submit('acme', '+12025559410');
    const second = await submit('acme', '+12025559410', `acme-${first.key}`);
    expect(second).toMatchObject({ started: true, workflowId: faxWorkflowId(`acme-${first.key}`, 'acme') });
    const key = uniqueJobId('dflt');
    const request = (k: string) => ({
      to: '+12025559411',
      idempotencyKey: k,
      documents: [{ bytes: pdf, filename: 'letter.pdf' }],
      policy: FAST_POLICY,
    });
    const own = await stack.faxClient.startFax(request(key));
    const spelled = await stack.faxClient.startFax(request(`default-${key}`));
    expect(spelled).toMatchObject({ started: true, workflowId: faxWorkflowId(`default-${key}`) });
    // Each key finds its own job.
    expect((await stack.faxClient.getFax(`acme-${first.key}`, 'acme'))?.state.jobId).toBe(
      `acme-${first.key}`,
    );
    expect((await stack.faxClient.getFax(`default-${key}`))?.state.jobId).toBe(`default-${key}`);
    for (const w of [first, second, own, spelled])
      expect((await resultOf(w.workflowId)).status).toBe(OUTCOME.success);
    expect(await stack.simFaxes('+12025559410')).toHaveLength(2);
    expect(await stack.simFaxes('+12025559411')).toHaveLength(2);
  }, 60_000);

  it('still finds, and never restarts, a job that runs under its id from before tenants', async () => {
    const key = uniqueJobId('legacy');
    const doc = await stack.documents.put(pdf, { filename: 'letter.pdf', contentType: 'application/pdf' });
    // What a client from before tenants started: `fax-<key>`, no tenant, no connection.
    await stack.client.workflow.start('FaxWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: legacyFaxWorkflowId(key),
      args: [{ jobId: key, to: '+12025559300', documents: [doc], policy: FAST_POLICY }],
    });
    expect((await stack.faxClient.getFax(key))?.state.jobId).toBe(key);
    const again = await stack.faxClient.startFax({
      to: '+12025559300',
      idempotencyKey: key,
      documents: [{ bytes: pdf, filename: 'letter.pdf' }],
      policy: FAST_POLICY,
    });
    expect(again).toEqual({ jobId: key, workflowId: legacyFaxWorkflowId(key), started: false });
    expect((await resultOf(legacyFaxWorkflowId(key))).status).toBe(OUTCOME.success);
    expect(await stack.simFaxes('+12025559300')).toHaveLength(1);
    // Its row moved to its workflow id and belongs to the default tenant.
    expect(await findFaxJobByKey(stack.db, 'default', key)).toMatchObject({ id: legacyFaxWorkflowId(key) });
    // Another tenant's same key is another job.
    expect(await stack.faxClient.getFax(key, 'acme')).toBeUndefined();
  }, 60_000);
});

describe('choosing the connection of a new job', () => {
  it("refuses a tenant's fax when the client can choose no connection for it, instead of sending it from another account", async () => {
    await expect(
      stack.faxClient.startFax({
        to: '+12025559400',
        tenantId: 'acme',
        documents: [{ bytes: pdf, filename: 'letter.pdf' }],
      }),
    ).rejects.toMatchObject({ code: 'NO_CONNECTION', message: expect.stringContaining('give connectionId') });
    await expect(
      stack.faxClient.startFax({
        to: '+12025559400',
        tenantId: 'Not A Tenant',
        documents: [{ bytes: pdf, filename: 'letter.pdf' }],
      }),
    ).rejects.toThrow(/tenant id "Not A Tenant" is not allowed/);
    expect(await stack.simFaxes('+12025559400')).toHaveLength(0);
  });
});
