import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReconcileFaxStatuses,
  type ReconcileFaxStatusesArgs,
  type ReconcileFaxStatusesResult,
} from '../../src/activities/reconcile-fax-statuses';
import type { DatabaseHandle } from '../../src/db/connection';
import type { RingCentralClient } from '../../src/ringcentral/types';
import { makeActivityDeps, testDatabase } from '../support/database';
import { inFlightJob } from './rows';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

/** A Temporal client where the listed workflows have ended (terminated) and the others run. */
function clientWith(closed: Set<string>): Client {
  return {
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn(),
    workflow: {
      getHandle: (workflowId: string) => ({
        describe: async () => ({ status: { name: closed.has(workflowId) ? 'TERMINATED' : 'RUNNING' } }),
        signal: async () => undefined,
      }),
    },
  } as unknown as Client;
}

async function setup(closed = new Set<string>()) {
  const { deps } = await makeActivityDeps(database);
  const listedFrom: Date[] = [];
  deps.ringcentral = Object.assign(Object.create(deps.ringcentral) as RingCentralClient, {
    listOutboundFaxes: async ({ dateFrom }: { dateFrom: Date }) => {
      listedFrom.push(dateFrom);
      return [];
    },
  });
  const reconcile = createReconcileFaxStatuses(deps);
  const run = (args: ReconcileFaxStatusesArgs) =>
    new MockActivityEnvironment({}, { client: clientWith(closed) }).run(
      reconcile,
      args,
    ) as Promise<ReconcileFaxStatusesResult>;
  return { deps, listedFrom, run };
}

describe('reconcileFaxStatuses', () => {
  it('clamps the window to the kill time and closes rows whose workflow was terminated (issue 8 #8)', async () => {
    const closed = new Set<string>();
    const { deps, listedFrom, run } = await setup(closed);
    // A workflow terminated three days ago never set completed_at; another fax is in flight now.
    const dead = await inFlightJob(database.db, deps.credentialKey, 3 * 24 * 3600);
    await inFlightJob(database.db, deps.credentialKey, 60);
    closed.add(dead.workflowId);

    await run({ newMessageIds: [] });
    expect(listedFrom).toHaveLength(1);
    const reach = Date.now() - listedFrom[0]!.getTime();
    expect(reach).toBeLessThan(25 * 3600_000 + 60_000);
    const row = await database.db
      .selectFrom('fax_jobs')
      .select(['completed_at', 'error_code'])
      .where('id', '=', dead.jobId)
      .executeTakeFirstOrThrow();
    expect(row.completed_at).toBeInstanceOf(Date);
    expect(row.error_code).toBe('WORKFLOW_CLOSED');

    // Swept once, the dead job no longer widens the window at all.
    await run({ newMessageIds: [] });
    expect(Date.now() - listedFrom[1]!.getTime()).toBeLessThan(10 * 60_000);
  });

  it('refuses, for good, a connection the worker cannot reach (issue 8 #5; issue 11: any connection it can)', async () => {
    const { listedFrom, run } = await setup();
    await expect(run({ credentialKey: `other-${randomUUID()}` })).rejects.toMatchObject({
      type: 'ConnectionUnavailable',
      nonRetryable: true,
    });
    expect(listedFrom).toHaveLength(0);
  });
});
