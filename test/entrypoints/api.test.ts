import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { credentialKey } from '../../src/ringcentral/credential-key';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { reconcileWorkflowId, subscriptionWorkflowId } from '../../src/contracts/workflow-ids';
import { issueConnectLink } from '../../src/db/connect-links';
import { DEFAULT_TENANT_ID } from '../../src/db/tenants';
import { tempDir, testDatabase } from '../support/database';
import { startCli, stopAll } from './cli-process';

/** `faxflow api` as an operator runs it: the HTTP API and webhook receiver on a port of its own. */
let simulator: SimulatorHandle;
let connection: Connection;
beforeAll(async () => {
  simulator = await startSimulator({ timeScale: 0.002 });
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterEach(stopAll);
afterAll(async () => {
  // The API keeps a SubscriptionWorkflow and a ReconcileWorkflow for its credential; no worker
  // serves this test's queue.
  const key = credentialKey({ serverUrl: simulator.url, ...simulator.credentials });
  for (const id of [subscriptionWorkflowId(key), reconcileWorkflowId(key)]) {
    await new Client({ connection }).workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  }
  await connection?.close();
  await simulator?.close();
});

it('faxflow api answers /health and stops cleanly on SIGTERM', async () => {
  const api = startCli(['api'], {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `entry-api-${randomUUID()}`,
    DATABASE_URL: inject('databaseUrl'),
    FAXFLOW_API_PORT: '0',
    RINGCENTRAL_SERVER_URL: simulator.url,
    RINGCENTRAL_CLIENT_ID: simulator.credentials.clientId,
    RINGCENTRAL_CLIENT_SECRET: simulator.credentials.clientSecret,
    RINGCENTRAL_JWT: simulator.credentials.jwt,
    FAXFLOW_DATA_DIR: await tempDir('faxflow-entry-api-'),
    LOG_LEVEL: 'warn',
  });
  const [, url] = await api.waitFor(/faxflow API at (http:\/\/\S+);/, 60_000);
  const res = await fetch(`${url}/health`);
  expect(res.status).toBe(200);

  // The connect routes are served, with the real connection store: a fresh link redirects to
  // RingCentral's authorize page with a PKCE challenge.
  const database = testDatabase();
  try {
    const link = await issueConnectLink(database.db, DEFAULT_TENANT_ID, url!);
    const connect = await fetch(link, { redirect: 'manual' });
    expect(connect.status).toBe(302);
    const location = new URL(connect.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${simulator.url}/restapi/oauth/authorize`);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
  } finally {
    await database.close();
  }

  expect(await api.stop('SIGTERM')).toBe(0);
  expect(api.output()).toContain('SIGTERM: stopping');
  await expect(fetch(`${url}/health`)).rejects.toThrow();
}, 120_000);
