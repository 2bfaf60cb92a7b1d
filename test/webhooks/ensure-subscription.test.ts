import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEnsureSubscription,
  type EnsureSubscriptionArgs,
} from '../../src/activities/ensure-subscription';
import type { DatabaseHandle } from '../../src/db/connection';
import { RingCentralApiError } from '../../src/ringcentral/errors';
import type { CreateSubscriptionRequest, RingCentralClient, Subscription } from '../../src/ringcentral/types';
import { makeApp, notificationFor, WEBHOOK } from '../api/helpers';
import { makeActivityDeps, testDatabase } from '../support/database';

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

/** RingCentral notifies the new subscription before its create call has answered. */
async function eagerDeps() {
  const { deps } = await makeActivityDeps(database);
  const seen = { early: [] as number[], created: 0 };
  const createSubscription = async (request: CreateSubscriptionRequest): Promise<Subscription> => {
    const id = `rc-sub-${randomUUID()}`;
    const res = await app.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: { 'content-type': 'application/json', 'verification-token': request.verificationToken },
      payload: notificationFor(id),
    });
    seen.early.push(res.statusCode);
    seen.created++;
    return {
      id,
      status: 'Active',
      expirationTime: new Date(Date.now() + request.expiresInSeconds * 1000).toISOString(),
    };
  };
  deps.ringcentral = Object.assign(Object.create(deps.ringcentral) as RingCentralClient, {
    createSubscription,
  });
  return { deps, seen };
}

const ARGS: EnsureSubscriptionArgs = {
  address: 'https://faxflow.example/webhooks/ringcentral',
  expiresInSeconds: 3600,
  renewBeforeMs: 60_000,
};

function run<R>(
  fn: (a: EnsureSubscriptionArgs) => Promise<R>,
  args: EnsureSubscriptionArgs,
  taskQueue = 'q',
) {
  return new MockActivityEnvironment({ taskQueue }).run(fn, args) as Promise<R>;
}

describe('ensureSubscription', () => {
  it('stores the token first, so a notification racing the create call is accepted (issue 8 #21)', async () => {
    const { deps, seen } = await eagerDeps();
    const r = await run(createEnsureSubscription(deps), ARGS, 'fleet-a');
    expect(seen.early).toEqual([200]);
    const row = await database.db
      .selectFrom('ringcentral_subscriptions')
      .selectAll()
      .where('id', '=', r.subscriptionId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'Active',
      credential_key: deps.credentialKey,
      task_queue: 'fleet-a',
    });
    const stored = await database.db
      .selectFrom('webhook_notifications')
      .select('id')
      .where('subscription_id', '=', r.subscriptionId)
      .execute();
    expect(stored).toHaveLength(1);
  });

  it('refuses, for good, a connection the worker cannot reach (issue 8 #5; issue 11: any connection it can)', async () => {
    const { deps, seen } = await eagerDeps();
    const err = await run(createEnsureSubscription(deps), { ...ARGS, credentialKey: 'someone-else' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'ConnectionUnavailable', nonRetryable: true });
    expect((err as Error).message).toContain('someone-else');
    expect(seen.created).toBe(0);
  });

  it('leaves no pending row behind when RingCentral refuses the create (400 SUB-525)', async () => {
    const { deps } = await makeActivityDeps(database);
    deps.ringcentral = Object.assign(Object.create(deps.ringcentral) as RingCentralClient, {
      createSubscription: async () => {
        throw new RingCentralApiError(400, 'SUB-525', 'The webhook handshake failed');
      },
    });
    await expect(run(createEnsureSubscription(deps), ARGS)).rejects.toMatchObject({ nonRetryable: true });
    const rows = await database.db
      .selectFrom('ringcentral_subscriptions')
      .select('id')
      .where('credential_key', '=', deps.credentialKey)
      .execute();
    expect(rows).toEqual([]);
  });
});
