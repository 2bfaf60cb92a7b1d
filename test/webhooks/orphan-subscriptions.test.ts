import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEnsureSubscription,
  type EnsureSubscriptionArgs,
  type EnsureSubscriptionResult,
} from '../../src/activities/ensure-subscription';
import type { DatabaseHandle } from '../../src/db/connection';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import type { RingCentralClient } from '../../src/ringcentral/types';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index';
import { startReceiver, type Receiver } from '../simulator/receiver';
import { makeActivityDeps, testDatabase } from '../support/database';

/**
 * Item 21 of issue 8: a crash between RingCentral's create call and storing the subscription's id
 * leaves a subscription nobody renews or deletes. The keeper lists RingCentral's subscriptions and
 * deletes those to our receiver that no row of ours stands for.
 */
let database: DatabaseHandle;
let sim: SimulatorHandle;
let rc: RingCentralClient;
let receiver: Receiver;
let elsewhere: Receiver;
beforeAll(async () => {
  database = testDatabase();
  sim = await startSimulator({ rateLimits: false });
  rc = createSdkRingCentralClient({ serverUrl: sim.url, ...sim.credentials });
  receiver = await startReceiver();
  elsewhere = await startReceiver();
});
afterAll(async () => {
  await rc?.close();
  await sim?.close();
  await receiver?.close();
  await elsewhere?.close();
  await database?.close();
});

const run = (
  fn: (a: EnsureSubscriptionArgs) => Promise<EnsureSubscriptionResult>,
  args: EnsureSubscriptionArgs,
) => new MockActivityEnvironment({ taskQueue: 'q' }).run(fn, args) as Promise<EnsureSubscriptionResult>;

describe('ensureSubscription and orphan subscriptions', () => {
  it('deletes subscriptions to our receiver that no row of ours stands for, and leaves the others', async () => {
    const { deps } = await makeActivityDeps(database);
    deps.ringcentral = rc;
    const create = (address: string) =>
      rc.createSubscription({ address, verificationToken: 'never-stored', expiresInSeconds: 3600 });
    // What a crash after the create call leaves, and someone else's subscription on the same account.
    const orphan = await create(receiver.url);
    const foreign = await create(elsewhere.url);

    const ensure = createEnsureSubscription(deps);
    const args: EnsureSubscriptionArgs = {
      address: receiver.url,
      expiresInSeconds: 3600,
      renewBeforeMs: 60_000,
    };
    const created = await run(ensure, args);
    expect(created).toMatchObject({ action: 'created', orphansDeleted: 1 });
    const ids = async () => (await rc.listSubscriptions()).map((s) => s.id).sort();
    expect(await ids()).toEqual([created.subscriptionId, foreign.id].sort());
    expect(await rc.getSubscription(orphan.id)).toBeUndefined();

    // A later check keeps our own subscription and finds nothing more to delete.
    const again = await run(ensure, { ...args, subscriptionId: created.subscriptionId });
    expect(again).toMatchObject({ action: 'unchanged', subscriptionId: created.subscriptionId });
    expect(again.orphansDeleted).toBeUndefined();
    expect(await ids()).toEqual([created.subscriptionId, foreign.id].sort());
  });
});
