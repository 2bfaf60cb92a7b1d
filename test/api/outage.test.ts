import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connection';
import { migrateToLatest } from '../../src/db/migrate';
import { faxClientFor } from '../../src/workers/dependencies';
import { loadConfig } from '../../src/config/config';
import { freePort } from '../../src/stack/free-port';
import { withTemporalDeadline } from '../../src/stack/api-process';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres';
import { createSubscription, makeApp, notificationFor, WEBHOOK } from './helpers';

/**
 * Issue 8, item 0: a database restart used to kill the API (an idle pooled client's 'error' event
 * had no listener); item 9b: a Temporal outage gave slow 500s. Both must be 503 with Retry-After.
 */
describe('outages of the database and of Temporal', () => {
  let pg: ThrowawayPostgres;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
    handle = connectPostgres(pg.url, { max: 4 });
    await migrateToLatest(handle.db);
  });

  afterAll(async () => {
    await handle?.close();
    await pg?.destroy();
  });

  it('keeps serving through a PostgreSQL restart: 503 with Retry-After while it is down, 200 after', async () => {
    const { app } = await makeApp(handle.db);
    const sub = await createSubscription(handle.db);
    const post = () =>
      app.inject({
        method: 'POST',
        url: WEBHOOK,
        headers: { 'verification-token': sub.token, 'content-type': 'application/json' },
        payload: notificationFor(sub.id),
      });
    // Several idle connections in the pool: each receives the server's termination notice.
    await Promise.all([post(), post(), post()]).then((rs) =>
      rs.forEach((r) => expect(r.statusCode).toBe(200)),
    );

    await pg.stop();
    // The idle clients' errors arrive asynchronously; give them a turn to be emitted.
    await new Promise((r) => setTimeout(r, 200));

    const during = await post();
    expect(during.statusCode).toBe(503);
    expect(during.headers['retry-after']).toMatch(/^\d+$/);
    expect(during.json().error.code).toBe('STORE_UNAVAILABLE');

    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toMatch(/^\d+$/);
    expect(ready.json().checks.database).toBe('down');

    await pg.start();
    const after = await post();
    expect(after.statusCode).toBe(200);
    const readyAgain = await app.inject({ method: 'GET', url: '/ready' });
    expect(readyAgain.statusCode).toBe(200);
    expect(readyAgain.json().checks.database).toBe('up');
    await app.close();
  });

  it('answers 503 with Retry-After quickly when Temporal cannot be reached', async () => {
    const port = await freePort();
    const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection, namespace: 'default' });
    const config = loadConfig({ FAXFLOW_DATA_DIR: '/tmp/faxflow-outage-test' });
    const faxClient = withTemporalDeadline(faxClientFor(config, client), connection, 1_000);
    const { app } = await makeApp(handle.db, {
      faxClient,
      readiness: {
        temporal: () =>
          connection.withDeadline(Date.now() + 1_000, () => client.workflowService.getSystemInfo({})),
      },
    });
    const res = await app.inject({ method: 'GET', url: '/faxes/some-job' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.json().error.code).toBe('TEMPORAL_UNAVAILABLE');

    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks).toEqual({ database: 'up', temporal: 'down' });
    await app.close();
    await connection.close();
  });
});
