import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { insertFaxJob, updateFaxJobStatus } from '../../src/db/fax-jobs';
import { testDatabase } from '../support/database';
import { sampleValue } from '../support/prometheus';
import { createSubscription, makeApp, notificationFor, WEBHOOK } from './helpers';
import { faxJobRow } from '../support/fax-job-row';

let database: DatabaseHandle;
let app: FastifyInstance;

beforeAll(async () => {
  database = testDatabase();
  ({ app } = await makeApp(database.db));
});
afterAll(async () => {
  await app.close();
  await database.close();
});

async function scrape(): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

const SUBMITTED = { method: 'POST', route: '/faxes', code: '202' };
const STORED = { method: 'POST', route: WEBHOOK, code: '200' };

describe('GET /metrics', () => {
  it('after a webhook and a fax submission, shows the webhook lag and both requests', async () => {
    const before = await scrape();
    const lagCount = sampleValue(before, 'faxflow_webhook_lag_seconds_count') ?? 0;
    const lagSum = sampleValue(before, 'faxflow_webhook_lag_seconds_sum') ?? 0;

    const sub = await createSubscription(database.db);
    // RingCentral stamped it 3 s ago: the lag observed is at least that.
    const stamped = new Date(Date.now() - 3_000).toISOString();
    const webhook = await app.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: { 'content-type': 'application/json', 'verification-token': sub.token },
      payload: JSON.stringify(notificationFor(sub.id, { timestamp: stamped })),
    });
    expect(webhook.statusCode).toBe(200);
    const fax = await app.inject({
      method: 'POST',
      url: '/faxes',
      headers: { 'content-type': 'application/json', 'idempotency-key': `metrics-${randomUUID()}` },
      payload: JSON.stringify({
        to: '+12025550123',
        documents: [{ filename: 'a.pdf', contentBase64: Buffer.from('%PDF-1.7 x').toString('base64') }],
      }),
    });
    expect(fax.statusCode).toBe(202);

    const after = await scrape();
    expect(sampleValue(after, 'faxflow_webhook_lag_seconds_count')).toBe(lagCount + 1);
    const lag = sampleValue(after, 'faxflow_webhook_lag_seconds_sum')! - lagSum;
    expect(lag).toBeGreaterThanOrEqual(3);
    expect(lag).toBeLessThan(60);
    expect(sampleValue(after, 'faxflow_http_requests_total', SUBMITTED)).toBe(
      (sampleValue(before, 'faxflow_http_requests_total', SUBMITTED) ?? 0) + 1,
    );
    expect(sampleValue(after, 'faxflow_http_requests_total', STORED)).toBe(
      (sampleValue(before, 'faxflow_http_requests_total', STORED) ?? 0) + 1,
    );
    expect(
      sampleValue(after, 'faxflow_http_request_duration_seconds_count', { method: 'POST', route: '/faxes' }),
    ).toBeGreaterThanOrEqual(1);
    // Every family is declared, so dashboards and alerts find them before the first event.
    for (const family of [
      'faxflow_faxes_final_total',
      'faxflow_fax_latency_seconds',
      'faxflow_ringcentral_calls_total',
      'faxflow_ringcentral_429_total',
      'faxflow_ringcentral_call_duration_seconds',
      'faxflow_rate_budget_wait_seconds',
      'faxflow_rate_budget_exhausted_total',
    ]) {
      expect(after).toContain(`# TYPE ${family} `);
    }
    // Process metrics come with it; scrapes of /metrics are not counted as requests.
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after).not.toContain('route="/metrics"');
  });

  it('a notification without a timestamp is stored but not observed', async () => {
    const lagCount = sampleValue(await scrape(), 'faxflow_webhook_lag_seconds_count') ?? 0;
    const sub = await createSubscription(database.db);
    const { timestamp: _omitted, ...notification } = notificationFor(sub.id);
    const res = await app.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: { 'content-type': 'application/json', 'verification-token': sub.token },
      payload: JSON.stringify(notification),
    });
    expect(res.statusCode).toBe(200);
    expect(sampleValue(await scrape(), 'faxflow_webhook_lag_seconds_count') ?? 0).toBe(lagCount);
  });
});

describe('faxes by final status and tenant', () => {
  async function newJob(tenant: string | undefined, createdAt: Date): Promise<string> {
    const id = `metrics-${randomUUID()}`;
    await insertFaxJob(
      database.db,
      faxJobRow(id, {
        job_key: id,
        workflow_id: `fax-${id}`,
        ...(tenant !== undefined && { tenant_id: tenant }),
        created_at: createdAt,
      }),
    );
    return id;
  }

  it('counts a job once, when its final status is written, with its latency from submission', async () => {
    const tenant = `tenant-${randomUUID().slice(0, 8)}`;
    const before = await scrape();
    const latencyCount =
      sampleValue(before, 'faxflow_fax_latency_seconds_count', { status: 'Delivered' }) ?? 0;
    const latencySum = sampleValue(before, 'faxflow_fax_latency_seconds_sum', { status: 'Delivered' }) ?? 0;

    const id = await newJob(tenant, new Date(Date.now() - 90_000));
    expect(await updateFaxJobStatus(database.db, id, { status: 'Sending' })).toBe(true);
    expect(
      sampleValue(await scrape(), 'faxflow_faxes_final_total', { status: 'Delivered', tenant }),
    ).toBeUndefined();
    expect(await updateFaxJobStatus(database.db, id, { status: 'Delivered' })).toBe(true);
    // A late or duplicated write of a final status changes nothing, and counts nothing.
    expect(await updateFaxJobStatus(database.db, id, { status: 'Failed' })).toBe(false);
    expect(await updateFaxJobStatus(database.db, id, { status: 'Delivered' })).toBe(false);

    const after = await scrape();
    expect(sampleValue(after, 'faxflow_faxes_final_total', { status: 'Delivered', tenant })).toBe(1);
    expect(sampleValue(after, 'faxflow_faxes_final_total', { status: 'Failed', tenant })).toBeUndefined();
    expect(sampleValue(after, 'faxflow_fax_latency_seconds_count', { status: 'Delivered' })).toBe(
      latencyCount + 1,
    );
    const latency =
      sampleValue(after, 'faxflow_fax_latency_seconds_sum', { status: 'Delivered' })! - latencySum;
    expect(latency).toBeGreaterThanOrEqual(89);
    expect(latency).toBeLessThan(600);
  });

  it('a job registered without a tenant belongs to, and is counted under, the default tenant', async () => {
    const labels = { status: 'Failed', tenant: 'default' };
    const before = sampleValue(await scrape(), 'faxflow_faxes_final_total', labels) ?? 0;
    const id = await newJob(undefined, new Date());
    await updateFaxJobStatus(database.db, id, { status: 'Failed', errorCode: 'X' });
    expect(sampleValue(await scrape(), 'faxflow_faxes_final_total', labels)).toBe(before + 1);
  });
});
