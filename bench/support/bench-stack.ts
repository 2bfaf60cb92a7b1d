/**
 * The pipeline assembled for benchmarks, the way test/support/test-stack.ts assembles it for tests,
 * but without vitest's `inject`: one Temporal dev server, one scratch PostgreSQL database and one
 * workflow bundle per run (`startBase`), and any number of pipelines on it (`startPipeline`), each
 * with its own simulator, credential key (rate budgets, subscription, reconciler), task queue and
 * workers. Unlike `startStack`, the rate budgets' window is ours to choose, so it can be scaled
 * like the simulator's clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { startApiServer, type ApiServer } from '../../src/api/server';
import { singleConnectionPool } from '../../src/ringcentral/single-connection-pool';
import { createFaxClient, type FaxClient } from '../../src/client/fax-client';
import { admitSlot } from '../../src/db/rate-limiter';
import { withRateBudgets, type RateGroup } from '../../src/ringcentral/rate-budgets';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import type { RingCentralClient } from '../../src/ringcentral/types';
import { startSimulator, type SimFax, type SimulatorHandle, type StatusModel } from '../../src/simulator';
import { resolveTemporalCli } from '../../src/stack/temporal-binary';
import type { DocumentStore } from '../../src/storage/document-store';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { createNotificationProcessor } from '../../src/webhooks/notification-processor';
import { ensureSubscriptionWorkflow } from '../../src/webhooks/subscription-keeper';
import { createFaxWorkers, runWorkers, WORKFLOWS_PATH } from '../../src/workers/fax-workers';
import { installTemporalRuntime } from '../../src/workers/runtime';
import { reconcileWorkflowId, subscriptionWorkflowId } from '../../src/contracts/workflow-ids';
import { FAX_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { createScratchDatabase, type ScratchDatabase } from './scratch-db';
import { startSimulatorProcess } from './simulator-process';
import { TokenCipher } from '../../src/connections/token-cipher';

/** Errors only, on stderr: the benchmark's tables own stdout. */
const quietLogger = pino({ level: 'error' }, pino.destination(2));

export interface BenchBase {
  client: Client;
  nativeConnection: NativeConnection;
  temporalAddress: string;
  workflowCode: string;
  database: ScratchDatabase;
  documents: DocumentStore;
  close(): Promise<void>;
}

/** Runs `fn` for each closer in reverse order, never stopping at a failure. */
async function runClosers(closers: (() => Promise<void>)[]): Promise<void> {
  for (const fn of closers.reverse()) {
    await fn().catch((err: unknown) => console.error('cleanup:', err instanceof Error ? err.message : err));
  }
}

/**
 * Where the bench's Temporal dev server keeps its state. `memory` (the default): SQLite in memory,
 * the fastest and what most benches want. `file`: SQLite in a scratch file (`--db-filename`), as the
 * production shape runs it (`faxflow dev`, the chaos suite): every state change is written to disk.
 */
export type TemporalStore = 'memory' | 'file';

export async function startBase(
  progress: (line: string) => void,
  { temporalStore = 'memory' }: { temporalStore?: TemporalStore } = {},
): Promise<BenchBase> {
  installTemporalRuntime('ERROR');
  const closers: (() => Promise<void>)[] = [];
  const close = () => runClosers(closers);
  try {
    progress(
      `starting the Temporal dev server (its state ${temporalStore === 'file' ? 'in a scratch file' : 'in memory'}), bundling workflows, creating a scratch database`,
    );
    const executable = resolveTemporalCli(process.env.TEMPORAL_CLI_PATH);
    let dbFilename: string | undefined;
    if (temporalStore === 'file') {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-bench-temporal-'));
      // Pushed first, so it runs last: after the server that writes there has stopped.
      closers.push(() => rm(dir, { recursive: true, force: true }));
      dbFilename = path.join(dir, 'temporal.db');
    }
    const noop = (): void => undefined;
    const [env, bundle, database] = await Promise.all([
      TestWorkflowEnvironment.createLocal({
        server: {
          executable,
          ip: '127.0.0.1',
          ui: false,
          searchAttributes: FAX_SEARCH_ATTRIBUTES,
          log: { format: 'pretty', level: 'error' },
          ...(dbFilename && { dbFilename }),
          ...(process.env.BENCH_TEMPORAL_METRICS_PORT && {
            extraArgs: ['--metrics-port', process.env.BENCH_TEMPORAL_METRICS_PORT],
          }),
        },
      }).then((e) => {
        closers.push(() => e.teardown());
        return e;
      }),
      bundleWorkflowCode({
        workflowsPath: WORKFLOWS_PATH,
        logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error },
      }),
      createScratchDatabase().then((d) => {
        closers.push(() => d.drop());
        return d;
      }),
    ]);
    const docDir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-bench-'));
    closers.push(() => rm(docDir, { recursive: true, force: true }));
    return {
      client: env.client,
      nativeConnection: env.nativeConnection,
      temporalAddress: env.address,
      workflowCode: bundle.code,
      database,
      documents: createLocalDocumentStore(docDir),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface PipelineOptions {
  label: string;
  timeScale: number;
  /** The simulator's RingCentral rate limits (Heavy 10, Medium 40, Light 50 per scaled 60 s). */
  rateLimits: boolean;
  budgets: Record<RateGroup, number>;
  /** Our budgets' sliding window (production: 61 s). */
  budgetWindowMs: number;
  /** Run the webhook receiver and keep a subscription pointed at it. */
  webhooks?: { coalesceMs?: number };
  maxConcurrentSends?: number;
  /**
   * The simulator's status model (issue 9). Default FAXFLOW_BENCH_STATUS_MODEL, else
   * delivery-reports: the pipeline bench times faxes to their Delivered.
   */
  statusModel?: StatusModel;
  /**
   * Run the simulator in a child process (its pid on the pipeline), so its CPU, RingCentral's side
   * of the exchange, is told apart from the pipeline's own. Default: in this process.
   */
  simulatorProcess?: boolean;
}

/** FAXFLOW_BENCH_STATUS_MODEL, checked. */
export function benchStatusModel(text = process.env.FAXFLOW_BENCH_STATUS_MODEL): StatusModel {
  if (text === undefined || text === '' || text === 'delivery-reports') return 'delivery-reports';
  if (text === 'sent-final') return 'sent-final';
  throw new Error(`FAXFLOW_BENCH_STATUS_MODEL must be sent-final or delivery-reports, not "${text}".`);
}

/** How our own budgets answered, per group (a refusal never reaches RingCentral). */
export type BudgetCounts = Record<RateGroup, { admitted: number; refused: number }>;

export interface Pipeline {
  label: string;
  /** `pid`: the simulator's process, when it runs in one of its own (`simulatorProcess`). */
  simulator: SimulatorHandle & { pid?: number };
  taskQueue: string;
  credentialKey: string;
  faxClient: FaxClient;
  ringcentral: RingCentralClient;
  budgetCounts: BudgetCounts;
  apiUrl: string | undefined;
  /** Workflow ids of the shared workflows (subscription keeper, reconciler) in webhook mode. */
  sharedWorkflowIds: string[];
  simStats(): Promise<SimStats>;
  simFaxes(): Promise<SimFax[]>;
  stop(): Promise<void>;
}

export interface SimStats {
  callsByEndpoint: Record<string, number>;
  callsByGroup: Record<string, number>;
  statusCodes: Record<string, number>;
  rateLimited429: number;
  faxesAccepted: number;
  webhooks: Record<string, number>;
  [k: string]: unknown;
}

export async function startPipeline(base: BenchBase, opts: PipelineOptions): Promise<Pipeline> {
  const closers: (() => Promise<void>)[] = [];
  const stop = () => runClosers(closers);
  try {
    const statusModel = opts.statusModel ?? benchStatusModel();
    const simOptions = { statusModel, timeScale: opts.timeScale, rateLimits: opts.rateLimits };
    const simulator: SimulatorHandle & { pid?: number } = opts.simulatorProcess
      ? await startSimulatorProcess(simOptions)
      : await startSimulator(simOptions);
    closers.push(() => simulator.close());
    const db = base.database.handle.db;
    const credentialKey = `bench-${opts.label}-${randomUUID().slice(0, 8)}`;
    const budgetCounts: BudgetCounts = {
      Heavy: { admitted: 0, refused: 0 },
      Medium: { admitted: 0, refused: 0 },
      Light: { admitted: 0, refused: 0 },
    };
    const ringcentral = withRateBudgets(
      createSdkRingCentralClient({ serverUrl: simulator.url, ...simulator.credentials }),
      async (group) => {
        // As the worker's composition root does: wait up to a minute (sends) or 20 s for a reserved slot.
        const admission = await admitSlot(
          db,
          `ringcentral:${credentialKey}:${group}`,
          { limit: opts.budgets[group], windowMs: opts.budgetWindowMs },
          { maxWaitMs: group === 'Heavy' ? 60_000 : 20_000 },
        );
        budgetCounts[group][admission.admitted ? 'admitted' : 'refused']++;
        return admission;
      },
    );
    closers.push(() => ringcentral.close());
    const deps: ActivityDeps = {
      db,
      ringcentral,
      connections: singleConnectionPool(credentialKey, ringcentral),
      documents: base.documents,
      logger: quietLogger,
      // No webhook endpoints here: a key of its own.
      secrets: new TokenCipher([{ id: 'bench', key: randomBytes(32) }]),
      defaultRegion: 'US',
      credentialKey,
      // A fresh credential has learnt nothing yet; say what the simulator's account does.
      deliveryReports: statusModel === 'delivery-reports' ? 'yes' : 'no',
    };
    const taskQueue = `bench-${opts.label}-${randomUUID().slice(0, 8)}`;
    const workers: Worker[] = await createFaxWorkers({
      connection: base.nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: createActivities(deps),
      workflowBundle: { code: base.workflowCode },
      ...(opts.maxConcurrentSends !== undefined && { maxConcurrentSends: opts.maxConcurrentSends }),
    });
    const running = runWorkers(workers);
    closers.push(async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    });
    const faxClient = createFaxClient({
      client: base.client,
      documents: base.documents,
      taskQueue,
      defaultRegion: 'US',
    });

    let apiUrl: string | undefined;
    const sharedWorkflowIds: string[] = [];
    if (opts.webhooks) {
      const api: ApiServer = await startApiServer(
        {
          db,
          faxClient,
          onNotification: createNotificationProcessor({
            db,
            client: base.client,
            taskQueue,
            ...(opts.webhooks.coalesceMs !== undefined && { coalesceMs: opts.webhooks.coalesceMs }),
          }),
        },
        { host: '127.0.0.1', port: 0 },
      );
      closers.push(() => api.close());
      apiUrl = api.url;
      const ids = [subscriptionWorkflowId(credentialKey), reconcileWorkflowId(credentialKey)];
      sharedWorkflowIds.push(...ids);
      closers.push(async () => {
        for (const id of ids) {
          await base.client.workflow
            .getHandle(id)
            .terminate('benchmark over')
            .catch(() => undefined);
        }
      });
      await ensureSubscriptionWorkflow(
        base.client,
        taskQueue,
        { credentialKey, address: `${api.url}/webhooks/ringcentral` },
        { ...(opts.webhooks.coalesceMs !== undefined && { coalesceMs: opts.webhooks.coalesceMs }) },
      );
      await waitFor('an Active RingCentral subscription', 30_000, async () => {
        const row = await db
          .selectFrom('ringcentral_subscriptions')
          .select('status')
          .where('credential_key', '=', credentialKey)
          .where('status', '=', 'Active')
          .executeTakeFirst();
        return row !== undefined;
      });
    }

    return {
      label: opts.label,
      simulator,
      taskQueue,
      credentialKey,
      faxClient,
      ringcentral,
      budgetCounts,
      apiUrl,
      sharedWorkflowIds,
      async simStats() {
        return (await (await fetch(`${simulator.url}/_sim/stats`)).json()) as SimStats;
      },
      async simFaxes() {
        return ((await (await fetch(`${simulator.url}/_sim/faxes`)).json()) as { faxes: SimFax[] }).faxes;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
