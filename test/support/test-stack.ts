import { randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import type { ApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config/config';
import { sealSecret } from '../../src/connections/connection-secret';
import { loadTokenCipher } from '../../src/connections/token-cipher';
import {
  reconcileWorkflowId,
  subscriptionWorkflowId as subscriptionWorkflowIdOf,
} from '../../src/contracts/workflow-ids';
import { insertConnection, setConnectionStatus } from '../../src/db/ringcentral-connections';
import { DEFAULT_TENANT_ID } from '../../src/db/tenants';
import type { DeliveryReportsMode } from '../../src/domain/fax-status';
import { createLogger } from '../../src/logger';
import type { RateGroup } from '../../src/ringcentral/rate-budgets';
import {
  startSimulator,
  type SimFax,
  type SimulatorHandle,
  type SimulatorOptions,
  type StatusModel,
} from '../../src/simulator';
import { startApi as startProductionApi } from '../../src/stack/api-process';
import { resolveTemporalCli } from '../../src/stack/temporal-binary';
import { connectionUpkeep, ensureSubscriptionWorkflow } from '../../src/webhooks/subscription-keeper';
import { buildDependencies, faxClientFor } from '../../src/workers/dependencies';
import { createFaxWorkers, runWorkers } from '../../src/workers/fax-workers';
import { installTemporalRuntime } from '../../src/workers/runtime';
import { tempDir } from './database';

/** Every log line written to it, as text (the stack's logs, for tests that grep them). */
class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

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
   * own rate budgets. They are stored in Postgres, encrypted, as `faxflow connections add-jwt` would
   * (tenant `default`), and reached through the production connection pool.
   */
  connections?: { id: string; jwt: string }[];
  /**
   * How long calls may wait for a slot of their budget while holding a worker slot (every
   * connection; default as in production: 60 s for Heavy, 20 s otherwise).
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
 * the RingCentral simulator over HTTP, and workers on a task queue of their own, whose activities
 * come from the production composition root (`buildDependencies`: the encrypted token store, the
 * connection pool, production budget buckets and slot waits), configured through the environment.
 */
export async function startTestStack(opts: TestStackOptions = {}) {
  installTemporalRuntime('WARN');
  const simulator: SimulatorHandle = await startSimulator({
    statusModel: STATUS_MODEL,
    timeScale: 0.002,
    ...opts.simulator,
  });
  const logs = new LogCapture();
  const logger = createLogger('info', logs);
  // The production composition root, configured as an operator would through the environment.
  const budgets = { Heavy: 1000, Medium: 1000, Light: 1000, ...opts.budgets };
  const taskQueue = `test-${randomUUID()}`;
  const config = loadConfig({
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: inject('databaseUrl'),
    FAXFLOW_DATA_DIR: await tempDir(),
    FAXFLOW_ENCRYPTION_KEY: `test:${randomBytes(32).toString('base64')}`,
    RINGCENTRAL_SERVER_URL: simulator.url,
    RINGCENTRAL_CLIENT_ID: simulator.credentials.clientId,
    RINGCENTRAL_CLIENT_SECRET: simulator.credentials.clientSecret,
    RINGCENTRAL_JWT: simulator.credentials.jwt,
    // A fresh credential has seen no delivery report yet, so `auto` would take the first Sent of a
    // delivery-reports account as final; an operator who knows the account says `yes` (tested apart
    // in test/integration/status-models.test.ts).
    RINGCENTRAL_DELIVERY_REPORTS:
      opts.deliveryReports ?? (STATUS_MODEL === 'delivery-reports' ? 'yes' : 'auto'),
    RINGCENTRAL_HEAVY_PER_MINUTE: String(budgets.Heavy),
    RINGCENTRAL_MEDIUM_PER_MINUTE: String(budgets.Medium),
    RINGCENTRAL_LIGHT_PER_MINUTE: String(budgets.Light),
    LOG_LEVEL: 'info',
  });
  const built = await buildDependencies(
    config,
    { serverUrl: simulator.url, ...simulator.credentials },
    logger,
    {
      ...(opts.budgetWindowMs !== undefined && { rateWindowMs: opts.budgetWindowMs }),
      ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
      ...(opts.connectionBudgetMaxWaitMs !== undefined && {
        maxSlotWaitMs: {
          Heavy: opts.connectionBudgetMaxWaitMs,
          Medium: opts.connectionBudgetMaxWaitMs,
          Light: opts.connectionBudgetMaxWaitMs,
        },
      }),
    },
  );
  const database = built.database;
  const budgetKey = built.credentialKey;
  // The other connections: JWT connections stored (encrypted) as `faxflow connections add-jwt`
  // would, under the ids the test names. Ids are reused by other files of the run's database:
  // start each from a clean row and clean budgets.
  const cipher = await loadTokenCipher(config);
  for (const c of opts.connections ?? []) {
    await database.db.deleteFrom('ringcentral_connections').where('id', '=', c.id).execute();
    await database.db
      .deleteFrom('rate_limit_events')
      .where('bucket', 'like', `ringcentral:${c.id}:%`)
      .execute();
    const sealed = sealSecret(cipher, c.id, { jwt: c.jwt });
    await insertConnection(database.db, {
      id: c.id,
      tenantId: DEFAULT_TENANT_ID,
      kind: 'jwt',
      serverUrl: simulator.url,
      clientId: simulator.credentials.clientId,
      accountId: null,
      extensionId: null,
      label: `test connection ${c.id}`,
      ciphertext: sealed.ciphertext,
      keyId: sealed.keyId,
      accessTokenExpiresAt: null,
      connectedAt: null,
    });
  }
  const documents = built.documents;
  const deps: ActivityDeps = {
    ...built.activityDeps,
    ...(opts.sendLease && { sendLease: opts.sendLease }),
  };
  // Set below once the receiver's address is known: each connection's keeper starts with its first job.
  let upkeep: ReturnType<typeof connectionUpkeep> | undefined;
  if (opts.webhooks && opts.connections)
    deps.ensureConnectionUpkeep = (id, c, queue) => upkeep?.(id, c, queue) ?? Promise.resolve();

  const address = inject('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address });
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
  const faxClient = faxClientFor(config, client, documents);

  let api: ApiServer | undefined;
  let apiPort = 0;
  // The production API process's wiring (`startApi`, as `faxflow api` runs it): the webhook receiver
  // feeding the reconciler, the v1 routes, the connect flow, each Temporal call under its deadline.
  const startApi = async (): Promise<ApiServer> => {
    api = await startProductionApi({
      config,
      client,
      db: database.db,
      faxClient,
      logger,
      port: apiPort,
      ...(opts.webhooks?.coalesceMs !== undefined && {
        notifications: { coalesceMs: opts.webhooks.coalesceMs },
      }),
    });
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
    /** The activities' connection pool (the production one). */
    connections: built.connections,
    /** The composition root's parts (registry, config) for tests that wire more of production. */
    built,
    config,
    /** Every log line the stack's processes wrote (redacted as in production). */
    logs: () => logs.text,
    /** The stack's logger (writes to `logs`), for processes a test starts beside it. */
    logger,
    /** Marks a connection as RingCentral's refusal would (`needs-reconnect`), or active again. */
    async setConnectionStatus(
      id: string,
      status: 'active' | 'needs-reconnect',
      reason: string | null = null,
    ) {
      await setConnectionStatus(database.db, id, status, reason);
    },
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
      await built.close();
      await simulator.close();
    },
  };
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

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
