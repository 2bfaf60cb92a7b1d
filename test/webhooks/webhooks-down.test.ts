import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createEnsureSubscription,
  type EnsureSubscriptionArgs,
} from '../../src/activities/ensure-subscription';
import type { DatabaseHandle } from '../../src/db/connection';
import { RingCentralApiError } from '../../src/ringcentral/errors';
import type { RingCentralClient, Subscription } from '../../src/ringcentral/types';
import { makeActivityDeps, testDatabase } from '../support/database';
import { inFlightJob } from './rows';

/** Issue 8 #9d: the subscription keeper tells a connection's open jobs when its webhooks stop. */
let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

const ARGS: EnsureSubscriptionArgs = {
  address: 'https://faxflow.example/webhooks/ringcentral',
  expiresInSeconds: 3600,
  renewBeforeMs: 60_000,
};

/** A Temporal client that records the signals it is asked to send. */
function recordingClient() {
  const signals: { workflowId: string; name: string; arg: unknown }[] = [];
  const client = {
    withAbortSignal: <R>(_s: AbortSignal, fn: () => Promise<R>) => fn(),
    workflow: {
      getHandle: (workflowId: string) => ({
        signal: async (def: { name: string }, arg: unknown) => {
          signals.push({ workflowId, name: def.name, arg });
        },
      }),
    },
  } as unknown as Client;
  return { client, signals };
}

const live = (id: string, status: string, inMs = 7 * 24 * 3600_000): Subscription => ({
  id,
  status,
  expirationTime: new Date(Date.now() + inMs).toISOString(),
});

async function keeperWith(overrides: Partial<RingCentralClient>) {
  const { deps } = await makeActivityDeps(database);
  deps.ringcentral = Object.assign(Object.create(deps.ringcentral) as RingCentralClient, {
    deleteSubscription: async () => {},
    listSubscriptions: async () => [],
    createSubscription: async () => live(`rc-sub-${randomUUID()}`, 'Active'),
    ...overrides,
  });
  return deps;
}

describe('the subscription keeper when webhooks stop', () => {
  it('tells every open job of the connection, and only those, when the subscription is suspended', async () => {
    const deps = await keeperWith({ getSubscription: async (id) => live(id, 'Suspended') });
    const mine = [
      await inFlightJob(database.db, deps.credentialKey, 60),
      await inFlightJob(database.db, deps.credentialKey, 5),
    ];
    await inFlightJob(database.db, `other-${randomUUID()}`, 60);
    const { client, signals } = recordingClient();
    const r = await new MockActivityEnvironment({}, { client }).run(createEnsureSubscription(deps), {
      ...ARGS,
      subscriptionId: `rc-sub-${randomUUID()}`,
    });
    expect(r).toMatchObject({ action: 'recreated', reason: 'the subscription is Suspended' });
    await vi.waitFor(() => expect(signals).toHaveLength(2));
    expect(signals.map((s) => s.workflowId).sort()).toEqual(mine.map((j) => j.workflowId).sort());
    for (const s of signals) {
      expect(s).toMatchObject({
        name: 'webhooksDown',
        arg: { connectionId: deps.credentialKey, reason: 'the subscription is Suspended' },
      });
    }
  });

  it('tells them when RingCentral no longer has the subscription, even if recreating it fails', async () => {
    const deps = await keeperWith({
      getSubscription: async () => undefined,
      createSubscription: async () => {
        throw new RingCentralApiError(503, 'CMN-211', 'Service temporarily unavailable');
      },
    });
    const job = await inFlightJob(database.db, deps.credentialKey, 60);
    const { client, signals } = recordingClient();
    await expect(
      new MockActivityEnvironment({}, { client }).run(createEnsureSubscription(deps), {
        ...ARGS,
        subscriptionId: `rc-sub-${randomUUID()}`,
      }),
    ).rejects.toThrow();
    await vi.waitFor(() =>
      expect(signals).toEqual([
        {
          workflowId: job.workflowId,
          name: 'webhooksDown',
          arg: { connectionId: deps.credentialKey, reason: 'RingCentral no longer has the subscription' },
        },
      ]),
    );
  });

  it('tells them when the renewal fails, not when all is well', async () => {
    const id = `rc-sub-${randomUUID()}`;
    let renewFails = false;
    const deps = await keeperWith({
      getSubscription: async () => live(id, 'Active', 30_000),
      renewSubscription: async () => {
        if (renewFails) throw new RingCentralApiError(404, 'SUB-404', 'Subscription not found');
        return live(id, 'Active');
      },
    });
    // The row that says the subscription is ours, at our address.
    await database.db
      .insertInto('ringcentral_subscriptions')
      .values({
        id,
        credential_key: deps.credentialKey,
        verification_token: 't',
        address: ARGS.address,
        status: 'Active',
        expires_at: new Date(Date.now() + 30_000),
        created_at: new Date(),
        updated_at: new Date(),
      } as never)
      .execute();
    const job = await inFlightJob(database.db, deps.credentialKey, 60);
    const { client, signals } = recordingClient();
    const keeper = createEnsureSubscription(deps);
    const check = () =>
      new MockActivityEnvironment({}, { client }).run(keeper, { ...ARGS, subscriptionId: id });
    await expect(check()).resolves.toMatchObject({ action: 'renewed' });
    renewFails = true;
    await expect(check()).rejects.toThrow();
    await vi.waitFor(() => expect(signals.map((s) => s.workflowId)).toEqual([job.workflowId]));
    expect(signals[0]!.arg).toMatchObject({ reason: 'renewing the subscription failed' });
  });
});
