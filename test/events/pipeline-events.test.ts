import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyWebhook } from '../../src/client/http';
import type { V1Broadcast, V1EventEnvelope, V1Fax } from '../../src/contracts/v1-api';
import { DEFAULT_TENANT_ID } from '../../src/db/tenants';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { deleteWebhookEndpoint, insertWebhookEndpoint } from '../../src/db/webhook-endpoints';
import { loadTokenCipher } from '../../src/connections/token-cipher';
import { startWebhookDispatcher, type WebhookDispatcher } from '../../src/events/dispatcher';
import { newWebhookSecret } from '../../src/events/webhook-endpoints-routes';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

/**
 * The real pipeline (FaxWorkflow, activities, simulator over HTTP) raising events through the
 * outbox: what upstream hears is what Postgres recorded, in order, signed.
 */
let stack: TestStack;
let dispatcher: WebhookDispatcher;
let server: http.Server;
const received: V1EventEnvelope[] = [];
// The default tenant: it sends from the workers' own account (other tenants need a connection).
const tenant = DEFAULT_TENANT_ID;
let endpointId = '';
const secret = newWebhookSecret();

beforeAll(async () => {
  stack = await startTestStack();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push(verifyWebhook(Buffer.concat(chunks), req.headers as Record<string, string>, secret));
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpointId = `we_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  await insertWebhookEndpoint(stack.db, await loadTokenCipher(stack.config), {
    id: endpointId,
    tenantId: tenant,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    events: ['fax.queued', 'fax.sent', 'fax.delivered', 'fax.failed', 'fax.rejected', 'broadcast.completed'],
    secret,
  });
  dispatcher = startWebhookDispatcher({
    db: stack.db,
    client: stack.client,
    taskQueue: stack.taskQueue,
    logger: pino({ level: 'silent' }),
    policy: { initialDelayMs: 200, maxDelayMs: 1_000, idleMs: 2_000 },
    intervalMs: 100,
  });
});
afterAll(async () => {
  // Later test files share the database: the default tenant stops listening.
  if (endpointId) await deleteWebhookEndpoint(stack.db, tenant, endpointId);
  await dispatcher?.stop();
  await stack?.stop();
  await new Promise((r) => server?.close(r));
});

async function outboxTypes(jobId: string): Promise<string[]> {
  const rows = await stack.db
    .selectFrom('webhook_events')
    .select('type')
    .where('job_id', '=', faxWorkflowId(jobId, tenant))
    .orderBy('sequence')
    .execute();
  return rows.map((r) => r.type);
}

describe('events from the real pipeline', () => {
  it('a redialled fax: every recorded change arrives, in order, ending in fax.delivered', async () => {
    const jobId = `evt-${randomUUID()}`;
    await stack.faxClient.startFax({
      to: '+15550000001', // busy twice, then through
      idempotencyKey: jobId,
      documents: [{ bytes: await makeSamplePdf(1), filename: 'letter.pdf' }],
      policy: FAST_POLICY,
    });
    await stack.client.workflow.getHandle(faxWorkflowId(jobId, tenant)).result();
    const expected = await outboxTypes(jobId);
    expect(expected.filter((t) => t === 'fax.queued').length).toBeGreaterThanOrEqual(3);
    expect(expected.at(-1)).toBe('fax.delivered');
    const mine = () => received.filter((e) => (e.data as V1Fax).id === jobId);
    await vi.waitFor(() => expect(mine().map((e) => e.type)).toEqual(expected), {
      timeout: 30_000,
      interval: 200,
    });
    const last = mine().at(-1)!.data as V1Fax;
    expect(last).toMatchObject({ id: jobId, tenantId: tenant, final: true, status: OUTCOME.success });
    expect(last.attempts.map((a) => a.faxErrorCode)).toEqual(['LineBusy', 'LineBusy', null]);
  });

  it('a broadcast ends with broadcast.completed after its recipients', async () => {
    const key = `bc-${randomUUID()}`;
    const started = await stack.faxClient.startBroadcast({
      recipients: [{ to: '+12025550123' }, { to: '+15550000003' }],
      idempotencyKey: key,
      documents: [{ bytes: await makeSamplePdf(1), filename: 'notice.pdf' }],
      policy: FAST_POLICY,
    });
    await stack.client.workflow.getHandle(started.workflowId).result();
    await vi.waitFor(() => expect(received.some((e) => e.type === 'broadcast.completed')).toBe(true), {
      timeout: 30_000,
      interval: 200,
    });
    const done = received.find((e) => e.type === 'broadcast.completed')!.data as V1Broadcast;
    expect(done).toMatchObject({ id: key, total: 2, completed: true });
    expect(done.faxes.map((f) => f.id)).toEqual(started.jobIds);
    expect(done.faxes.every((f) => f.final)).toBe(true);
  });
});
