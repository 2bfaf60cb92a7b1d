import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { webhooksHealthy } from '../../src/db/webhook-health';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { healthy } from '../../src/activities/webhook-health';
import { makeActivityDeps, testDatabase } from '../support/database';
import { inFlightJob } from './rows';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});
afterEach(() => {
  vi.useRealTimers();
});

const TEN_MIN = 10 * 60_000;

/** An Active subscription created `agoSec` seconds ago by the database's clock. */
async function subscription(credentialKey: string, agoSec: number): Promise<string> {
  const id = `sub-${randomUUID()}`;
  await database.db
    .insertInto('ringcentral_subscriptions')
    .values({
      id,
      credential_key: credentialKey,
      verification_token: 't',
      address: 'http://x/webhooks/ringcentral',
      status: 'Active',
      expires_at: sql<Date>`now() + interval '7 days'`,
      created_at: sql<Date>`now() - make_interval(secs => ${agoSec})`,
      updated_at: sql<Date>`now()`,
    } as never)
    .execute();
  return id;
}

async function notification(subscriptionId: string, agoSec: number, processed: boolean): Promise<void> {
  const at = sql<Date>`now() - make_interval(secs => ${agoSec})`;
  await database.db
    .insertInto('webhook_notifications')
    .values({
      subscription_id: subscriptionId,
      uuid: randomUUID(),
      body: '{}',
      received_at: at,
      processed_at: processed ? at : null,
    } as never)
    .execute();
}

async function sentFax(credentialKey: string, agoSec: number): Promise<void> {
  await inFlightJob(database.db, credentialKey, agoSec);
}

describe('webhook health', () => {
  it('is healthy with a fresh processed notification, whatever the worker clock says (issue 8 #14)', async () => {
    const key = `cred-${randomUUID()}`;
    const sub = await subscription(key, 3600);
    await notification(sub, 5, true);
    // This worker's clock runs an hour ahead of the database's.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3600_000 });
    expect(await webhooksHealthy(database.db, key, TEN_MIN)).toBe(true);
  });

  it('counts processed notifications, not received ones (issue 8 #13)', async () => {
    const key = `cred-${randomUUID()}`;
    const sub = await subscription(key, 3600);
    await notification(sub, 30, false);
    expect(await webhooksHealthy(database.db, key, TEN_MIN)).toBe(false);
    await notification(sub, 20, true);
    expect(await webhooksHealthy(database.db, key, TEN_MIN)).toBe(true);
  });

  it('turns unhealthy when a fax sent minutes ago was never announced (issue 8 #9d)', async () => {
    const key = `cred-${randomUUID()}`;
    const sub = await subscription(key, 3600);
    await notification(sub, 300, true);
    expect(await webhooksHealthy(database.db, key, TEN_MIN)).toBe(true);
    // A fax sent 3 minutes ago: its "new fax" notification would have come within seconds.
    await sentFax(key, 180);
    expect(await webhooksHealthy(database.db, key, TEN_MIN)).toBe(false);
    // Once a notification arrives after it, webhooks are trusted again.
    await notification(sub, 170, true);
    expect(await webhooksHealthy(database.db, key, TEN_MIN)).toBe(true);
  });

  it('is unhealthy without an active subscription', async () => {
    expect(await webhooksHealthy(database.db, `cred-${randomUUID()}`, TEN_MIN)).toBe(false);
  });
});

describe('the health activity', () => {
  it('asks the subscription keeper to check at once and wakes the open jobs when a sent fax went unannounced (issue 8 #9d)', async () => {
    const { deps } = await makeActivityDeps(database);
    const sub = await subscription(deps.credentialKey, 3600);
    await notification(sub, 300, true);
    const job = await inFlightJob(database.db, deps.credentialKey, 180);
    const signalled: string[] = [];
    const client = {
      withAbortSignal: <R>(_s: AbortSignal, fn: () => Promise<R>) => fn(),
      workflow: {
        getHandle: (workflowId: string) => ({
          signal: async () => {
            signalled.push(workflowId);
          },
        }),
      },
    } as unknown as Client;
    const result = await new MockActivityEnvironment({}, { client }).run(healthy, deps);
    expect(result).toBe(false);
    // ... and tells the connection's open jobs to poll at once (webhooksDown).
    await vi.waitFor(() =>
      expect([...signalled].sort()).toEqual(
        [`ringcentral-subscription-${deps.credentialKey}`, job.workflowId].sort(),
      ),
    );
  });

  it('reuses a credential’s health for at most the cache time (issue 13)', async () => {
    const made = await makeActivityDeps(database);
    const deps = { ...made.deps, webhookHealthCacheMs: 1_500 };
    const env = new MockActivityEnvironment();
    const ask = () => env.run(healthy, deps) as Promise<boolean>;
    expect(await Promise.all([ask(), ask()])).toEqual([false, false]);
    // Webhooks start flowing: the cached answer stands until the cache time ran out, then it is seen.
    const sub = await subscription(deps.credentialKey, 3600);
    await notification(sub, 5, true);
    const changedAt = Date.now();
    expect(await ask()).toBe(false);
    await vi.waitFor(async () => expect(await ask()).toBe(true), { timeout: 10_000, interval: 100 });
    expect(Date.now() - changedAt).toBeLessThan(10_000);
    // Without a cache every call asks the database.
    const uncached = { ...deps, credentialKey: `cred-${randomUUID()}`, webhookHealthCacheMs: 0 };
    expect(await env.run(healthy, uncached)).toBe(false);
    await notification(await subscription(uncached.credentialKey, 3600), 5, true);
    expect(await env.run(healthy, uncached)).toBe(true);
  });
});
