import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveTemporalCli } from '../../src/stack/temporal-binary';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { inject } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { createFaxClient } from '../../src/client/fax-client';
import { admit } from '../../src/db/rate-limiter';
import { withRateBudgets, type RateGroup } from '../../src/ringcentral/rate-budgets';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import {
  startSimulator,
  type SimFax,
  type SimulatorHandle,
  type SimulatorOptions,
  type StatusModel,
} from '../../src/simulator';
import type { DeliveryReportsMode } from '../../src/domain/fax-status';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { startApiServer, type ApiServer } from '../../src/api/server';
import { createNotificationProcessor } from '../../src/webhooks/notification-processor';
import { connectionUpkeep, ensureSubscriptionWorkflow } from '../../src/webhooks/subscription-keeper';
import { createFaxWorkers, runWorkers } from '../../src/workers/fax-workers';
import {
  reconcileWorkflowId,
  subscriptionWorkflowId as subscriptionWorkflowIdOf,
} from '../../src/contracts/workflow-ids';
import { installTemporalRuntime } from '../../src/workers/runtime';
import { tempDir, testDatabase } from './database';
import {
  ConnectionUnavailableError,
  type RingCentralConnectionPool,
} from '../../src/ringcentral/connections';
import type { RingCentralClient } from '../../src/ringcentral/types';

/**
 * The simulator's status model for this run of the integration suite: `.ci/run` runs the suite
 * once per model (FAXFLOW_TEST_STATUS_MODEL); tests state their expectations through OUTCOME.
 */
export const STATUS_MODEL: StatusModel = statusModelFrom(process.env.FAXFLOW_TEST_STATUS_MODEL);

function statusModelFrom(text: string | undefined): StatusModel {
  if (text === undefined || text === '' || text === 'sent-final') return 'sent-final';
  if (text === 'delivery-reports') return 'delivery-reports';
  throw new Error(`FAXFLOW_TEST_STATUS_MODEL must be sent-final or delivery-reports, not "${text}".`);
}

/** How the simulator's outcomes end under STATUS_MODEL. */
export const OUTCOME =
  STATUS_MODEL === 'sent-final'
    ? ({ success: 'Sent', lineFailure: 'SendingFailed', silentSuccess: 'Sent' } as const)
    : ({ success: 'Delivered', lineFailure: 'DeliveryFailed', silentSuccess: 'SentUnconfirmed' } as const);

export interface TestStackOptions {
  simulator?: SimulatorOptions;
  /** The adapter's upper bound for one HTTP exchange (a send past it is ambiguous). */
  requestTimeoutMs?: number;
  /** Send lease timings (activities/send-lease.ts). */
  sendLease?: ActivityDeps['sendLease'];
  budgets?: Partial<Record<RateGroup, number>>;
  /** Our budgets' window; RingCentral's is 60 s, scaled here like the simulator's clock. */
  budgetWindowMs?: number;
  /** RINGCENTRAL_DELIVERY_REPORTS for this stack's workers (default: what suits STATUS_MODEL). */
  deliveryReports?: DeliveryReportsMode;
  /**
   * RingCentral connections besides the stack's own credential (whose id is the stack's budget key):
   * each logs in as the simulator user with this JWT (add it to `simulator.extraUsers`) and has its
   * own rate budgets. Activities reach them through a pool the test can make refuse a connection.
   */
  connections?: { id: string; jwt: string }[];
  /**
   * How long those connections' calls may wait for a slot of their budget while holding a worker
   * slot (default as in production: 60 s for Heavy, 20 s otherwise).
   */
  connectionBudgetMaxWaitMs?: number;
  /** Run the webhook receiver and keep a RingCentral subscription pointed at it. */
  webhooks?: {
    expiresInSeconds?: number;
    renewBeforeMs?: number;
    checkEveryMs?: number;
    coalesceMs?: number;
  };
}

/**
 * The real pipeline for integration tests: the run's Temporal dev server and PostgreSQL database,
 * the RingCentral simulator over HTTP, the SDK adapter, and workers on a task queue of their own.
 */
export async function startTestStack(opts: TestStackOptions = {}) {
  installTemporalRuntime('WARN');
  const simulator: SimulatorHandle = await startSimulator({
    statusModel: STATUS_MODEL,
    timeScale: 0.002,
    ...opts.simulator,
  });
  const database = testDatabase();
  const budgetKey = `test-${randomUUID()}`;
  const budgets = { Heavy: 1000, Medium: 1000, Light: 1000, ...opts.budgets };
  const ringcentral = withRateBudgets(
    createSdkRingCentralClient({
      serverUrl: simulator.url,
      ...simulator.credentials,
      ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
    }),
    (group) =>
      admit(
        database.db,
        `${budgetKey}:${group}`,
        { limit: budgets[group], windowMs: opts.budgetWindowMs ?? 61_000 },
        { maxWaitMs: group === 'Heavy' ? 60_000 : 20_000 },
      ),
  );
  const budgetedClient = (jwt: string, bucket: string) =>
    withRateBudgets(
      createSdkRingCentralClient({
        serverUrl: simulator.url,
        ...simulator.credentials,
        jwt,
        ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
      }),
      (group) =>
        admit(
          database.db,
          `ringcentral:${bucket}:${group}`,
          { limit: budgets[group], windowMs: opts.budgetWindowMs ?? 61_000 },
          { maxWaitMs: opts.connectionBudgetMaxWaitMs ?? (group === 'Heavy' ? 60_000 : 20_000) },
        ),
    );
  const pool = new TestConnectionPool(budgetKey, ringcentral);
  for (const c of opts.connections ?? []) pool.clients.set(c.id, budgetedClient(c.jwt, c.id));
  const documents = createLocalDocumentStore(await tempDir());
  const deps: ActivityDeps = {
    db: database.db,
    ringcentral,
    connections: pool,
    documents,
    logger: pino({ level: 'silent' }),
    defaultRegion: 'US',
    credentialKey: budgetKey,
    // A fresh credential has seen no delivery report yet, so `auto` would take the first Sent of a
    // delivery-reports account as final; an operator who knows the account says `yes` (tested apart
    // in test/integration/status-models.test.ts).
    deliveryReports: opts.deliveryReports ?? (STATUS_MODEL === 'delivery-reports' ? 'yes' : 'auto'),
    ...(opts.sendLease && { sendLease: opts.sendLease }),
  };
  // Set below once the receiver's address is known: each connection's keeper starts with its first job.
  let upkeep: ReturnType<typeof connectionUpkeep> | undefined;
  if (opts.webhooks && opts.connections)
    deps.ensureConnectionUpkeep = (id, c, queue) => upkeep?.(id, c, queue) ?? Promise.resolve();

  const address = inject('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `test-${randomUUID()}`;
  const workers = await createFaxWorkers({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    activities: createActivities(deps),
    workflowBundle: { code: inject('workflowCode') },
  });
  const running = runWorkers(workers);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const faxClient = createFaxClient({ client, documents, taskQueue, defaultRegion: 'US' });

  let api: ApiServer | undefined;
  let apiPort = 0;
  const apiDeps = {
    db: database.db,
    faxClient,
    logger: pino({ level: 'silent' }),
    onNotification: createNotificationProcessor({
      db: database.db,
      client,
      taskQueue,
      ...(opts.webhooks?.coalesceMs !== undefined && { coalesceMs: opts.webhooks.coalesceMs }),
    }),
  };
  const startApi = async (): Promise<ApiServer> => {
    api = await startApiServer(apiDeps, { host: '127.0.0.1', port: apiPort });
    apiPort = Number(new URL(api.url).port);
    return api;
  };
  let subscriptionWorkflowId: string | undefined;
  if (opts.webhooks) {
    await startApi();
    upkeep = connectionUpkeep({
      address: `${api!.url}/webhooks/ringcentral`,
      ...(opts.webhooks.expiresInSeconds !== undefined && {
        expiresInSeconds: opts.webhooks.expiresInSeconds,
      }),
      ...(opts.webhooks.renewBeforeMs !== undefined && { renewBeforeMs: opts.webhooks.renewBeforeMs }),
      ...(opts.webhooks.checkEveryMs !== undefined && { checkEveryMs: opts.webhooks.checkEveryMs }),
    });
    subscriptionWorkflowId = (
      await ensureSubscriptionWorkflow(
        client,
        taskQueue,
        {
          credentialKey: budgetKey,
          address: `${api!.url}/webhooks/ringcentral`,
          ...(opts.webhooks.expiresInSeconds !== undefined && {
            expiresInSeconds: opts.webhooks.expiresInSeconds,
          }),
          ...(opts.webhooks.renewBeforeMs !== undefined && { renewBeforeMs: opts.webhooks.renewBeforeMs }),
          ...(opts.webhooks.checkEveryMs !== undefined && { checkEveryMs: opts.webhooks.checkEveryMs }),
        },
        // The reconciler starts with the keeper, so it must get the processor's coalesceMs.
        { ...(opts.webhooks.coalesceMs !== undefined && { coalesceMs: opts.webhooks.coalesceMs }) },
      )
    ).workflowId;
  }

  return {
    simulator,
    db: database.db,
    documents,
    client,
    faxClient,
    taskQueue,
    /** The stack's own credential's connection id (the default tenant's connection). */
    defaultConnectionId: budgetKey,
    /** The activities' connection pool: `unavailable` makes a connection need reconnecting. */
    connections: pool,
    subscriptionWorkflowId,
    /** The webhook receiver: stop it to make deliveries fail, start it again on the same port. */
    api: {
      url: () => api?.url,
      stop: async () => {
        await api?.close();
        api = undefined;
      },
      start: startApi,
    },
    /** Saves a finished workflow's history under test/histories/ when FAXFLOW_RECORD_HISTORIES=1. */
    async maybeRecordHistory(workflowId: string, name: string): Promise<void> {
      if (process.env.FAXFLOW_RECORD_HISTORIES !== '1') return;
      // The Temporal CLI writes the canonical JSON form that replay (and the UI's import) reads.
      const cli = resolveTemporalCli(process.env.TEMPORAL_CLI_PATH);
      if (cli.type !== 'existing-path') throw new Error('recording histories needs the temporal CLI on PATH');
      const { stdout } = await promisify(execFile)(
        cli.path,
        ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      // A history recorded under sent-final follows other paths than the same test's under delivery-reports.
      const file = STATUS_MODEL === 'sent-final' ? `${name}-sent-final.json` : `${name}.json`;
      await writeFile(path.join(HISTORIES_DIR, file), stdout);
    },
    async setFaults(faults: Record<string, unknown>): Promise<void> {
      const res = await fetch(`${simulator.url}/_sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!res.ok) throw new Error(`simulator refused faults: ${await res.text()}`);
    },
    async simStats(): Promise<Record<string, unknown>> {
      return (await (await fetch(`${simulator.url}/_sim/stats`)).json()) as Record<string, unknown>;
    },
    /** Every fax the simulator accepted (optionally to one number): the ground truth for duplicates. */
    async simFaxes(to?: string): Promise<SimFax[]> {
      const res = await fetch(`${simulator.url}/_sim/faxes${to ? `?to=${encodeURIComponent(to)}` : ''}`);
      return ((await res.json()) as { faxes: SimFax[] }).faxes;
    },
    async stop() {
      for (const c of opts.webhooks ? (opts.connections ?? []) : []) {
        for (const id of [subscriptionWorkflowIdOf(c.id), reconcileWorkflowId(c.id)])
          await client.workflow
            .getHandle(id)
            .terminate('test over')
            .catch(() => undefined);
      }
      if (subscriptionWorkflowId) {
        await client.workflow
          .getHandle(subscriptionWorkflowId)
          .terminate('test over')
          .catch(() => undefined);
        await client.workflow
          .getHandle(reconcileWorkflowId(budgetKey))
          .terminate('test over')
          .catch(() => undefined);
      }
      await api?.close();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await pool.close();
      await database.close();
      await simulator.close();
    },
  };
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

/**
 * The workers' connection pool in integration tests: a client per connection, and a switch that
 * makes one need reconnecting (what the real pool does when RingCentral refuses its refresh token).
 */
export class TestConnectionPool implements RingCentralConnectionPool {
  readonly clients = new Map<string, RingCentralClient>();
  /** Connection id → why it needs reconnecting. */
  readonly unavailable = new Map<string, string>();

  constructor(defaultId: string, defaultClient: RingCentralClient) {
    this.clients.set(defaultId, defaultClient);
  }

  async forConnection(id: string): Promise<RingCentralClient> {
    const reason = this.unavailable.get(id);
    if (reason !== undefined) throw new ConnectionUnavailableError(id, 'needs-reconnect', reason);
    const client = this.clients.get(id);
    if (!client) throw new ConnectionUnavailableError(id, 'missing', 'no such connection');
    return client;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.close();
  }
}

export const HISTORIES_DIR = fileURLToPath(new URL('../histories', import.meta.url));

/** Fast timings for the simulator's scaled clock. */
export const FAST_POLICY = {
  pollInitialMs: 200,
  pollMaxMs: 1_000,
  redialBackoffMs: 300,
  sentQuietPeriodMs: 3_000,
  killAfterMs: 60_000,
  sendRetryInitialMs: 200,
  pollWithWebhooksMs: 2_000,
};
