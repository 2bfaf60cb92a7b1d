import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { FaxClient } from '../client/fax-client';
import type { Config } from '../config/config';
import type { Logger } from '../logger';
import {
  buildDependencies,
  faxClientFor,
  RATE_WINDOW_MS,
  type Dependencies,
  type RingCentralTarget,
} from '../workers/dependencies';
import { createFaxWorkers, runWorkers } from '../workers/fax-workers';
import { startWebhookDispatcher } from '../events/dispatcher';
import { FAX_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import type { SimulatorOptions } from '../simulator';
import { connectionUpkeep, ensureSubscriptionWorkflow } from '../webhooks/subscription-keeper';
import { startApi } from './api-process';
import { freePort } from './free-port';
import { explainMissingBinary, provideTemporalBinary } from './temporal-binary';
import { TEMPORAL_CLI } from './temporal-versions';

export interface StackOptions {
  /** Keep Temporal's history in `<dataDir>/temporal.db` across runs (faxflow dev). */
  persistTemporal?: boolean;
  /** Simulator time scale when no RingCentral credentials are set. */
  simulatorTimeScale?: number;
  /** Preferred Temporal UI port (FAXFLOW_TEMPORAL_UI_PORT wins). */
  uiPort?: number;
  /** Preferred Temporal frontend port (default: any free port; FAXFLOW_TEMPORAL_PORT wins). */
  temporalPort?: number;
  /** Run the HTTP API and webhook receiver, and keep a RingCentral subscription pointed at it. Default true. */
  api?: boolean;
  /**
   * Our rate budgets' window. Default: 61 s against RingCentral; against the simulator, 61 s times
   * its time scale, so our budgets and the simulator's limits count the same scaled minute.
   */
  budgetWindowMs?: number;
  /** Simulator options beyond the time scale (faults are set later through /_sim/faults). */
  simulator?: SimulatorOptions;
  onProgress?: (line: string) => void;
}

export interface Stack {
  client: Client;
  faxClient: FaxClient;
  namespace: string;
  taskQueue: string;
  /** Temporal UI base URL when we started the dev server. */
  uiUrl: string | undefined;
  temporalAddress: string;
  simulatorUrl: string | undefined;
  /** The HTTP API (POST /faxes, webhooks) when started. */
  apiUrl: string | undefined;
  deps: Dependencies;
  workers: Worker[];
  close(): Promise<void>;
}

/**
 * Everything faxflow needs on one machine, on embedded defaults: the Temporal dev server (unless
 * TEMPORAL_ADDRESS is set), Postgres (embedded unless DATABASE_URL is set), the RingCentral
 * simulator (unless credentials are set), and the workers. Closing stops them in reverse order.
 */
export async function startStack(config: Config, logger: Logger, opts: StackOptions = {}): Promise<Stack> {
  const progress = opts.onProgress ?? (() => undefined);
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const fn of closers.reverse()) {
      await fn().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
    }
  };

  try {
    let client: Client;
    let nativeConnection: NativeConnection;
    let uiUrl: string | undefined;
    let temporalAddress = config.temporalAddress ?? '';
    const namespace = config.temporalNamespace;
    if (config.temporalAddress) {
      progress(`Connecting to Temporal at ${config.temporalAddress}`);
      nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
      closers.push(() => nativeConnection.close());
      const connection = await Connection.connect({ address: config.temporalAddress });
      closers.push(() => connection.close());
      client = new Client({ connection, namespace });
    } else {
      const executable = await provideTemporalBinary(TEMPORAL_CLI, {
        explicit: config.temporalCliPath,
        toolsDir: config.toolsDir,
        onProgress: progress,
      });
      progress(
        executable.type === 'existing-path'
          ? `Starting the Temporal dev server (${executable.path})`
          : 'Starting the Temporal dev server (downloading the Temporal CLI)',
      );
      const uiPort = await freePort(config.temporalUiPort ?? opts.uiPort ?? 8233);
      const port = await freePort(config.temporalPort ?? opts.temporalPort ?? 0);
      const env = await explainMissingBinary(TEMPORAL_CLI, executable, () =>
        TestWorkflowEnvironment.createLocal({
          server: {
            executable,
            ip: '127.0.0.1',
            port,
            namespace,
            ui: true,
            uiPort,
            searchAttributes: FAX_SEARCH_ATTRIBUTES,
            log: { format: 'pretty', level: 'error' },
            ...(opts.persistTemporal && { dbFilename: path.resolve(config.dataDir, 'temporal.db') }),
          },
        }),
      );
      closers.push(() => env.teardown());
      client = env.client;
      nativeConnection = env.nativeConnection;
      uiUrl = `http://localhost:${uiPort}`;
      temporalAddress = `127.0.0.1:${port}`;
    }

    let target: RingCentralTarget;
    let simulatorUrl: string | undefined;
    let rateWindowMs = opts.budgetWindowMs;
    if (config.ringcentral) {
      target = config.ringcentral;
      progress(`Using RingCentral at ${config.ringcentral.serverUrl}`);
    } else {
      const { startSimulator } = await import('../simulator');
      const simulator = await startSimulator({
        timeScale: opts.simulatorTimeScale ?? 0.005,
        ...opts.simulator,
      });
      closers.push(() => simulator.close());
      simulatorUrl = simulator.url;
      rateWindowMs ??= RATE_WINDOW_MS * (opts.simulator?.timeScale ?? opts.simulatorTimeScale ?? 0.005);
      target = { serverUrl: simulator.url, ...simulator.credentials };
      progress(`Started the RingCentral simulator at ${simulator.url}`);
    }

    progress(
      config.databaseUrl
        ? 'Connecting to PostgreSQL'
        : `Starting embedded Postgres in ${path.join(config.dataDir, 'pgdata')}`,
    );
    const deps = await buildDependencies(config, target, logger, {
      ...(rateWindowMs !== undefined && { rateWindowMs }),
    });
    closers.push(() => deps.close());

    const workers = await createFaxWorkers({
      connection: nativeConnection,
      namespace,
      taskQueue: config.taskQueue,
      activities: createActivities(deps.activityDeps),
    });
    const running = runWorkers(workers);
    closers.push(async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    });
    progress(`Workers polling task queue ${config.taskQueue}`);
    // Outbox → delivery workflows for upstream event webhooks (src/events/dispatcher.ts).
    const dispatcher = startWebhookDispatcher({
      db: deps.database.db,
      client,
      taskQueue: config.taskQueue,
      logger,
    });
    closers.push(() => dispatcher.stop());

    const faxClient = faxClientFor(config, client, deps.documents, {
      db: deps.database.db,
      defaultConnectionId: deps.credentialKey,
    });

    let apiUrl: string | undefined;
    if (opts.api !== false) {
      const port = config.apiPort === 0 ? 0 : await freePort(config.apiPort);
      const api = await startApi({ config, client, db: deps.database.db, faxClient, logger, port });
      closers.push(() => api.close());
      apiUrl = api.url;
      progress(`HTTP API at ${api.url} (POST /faxes, GET /faxes/:id, POST /webhooks/ringcentral)`);
      const address = `${config.publicUrl ?? api.url}/webhooks/ringcentral`;
      await ensureSubscriptionWorkflow(client, config.taskQueue, {
        credentialKey: deps.credentialKey,
        address,
      });
      // Every other connection's keeper starts with its first job (activities read this at call time).
      deps.activityDeps.ensureConnectionUpkeep = connectionUpkeep({ address });
      progress(`Keeping a RingCentral webhook subscription pointed at ${address}`);
    }
    return {
      client,
      faxClient,
      namespace,
      taskQueue: config.taskQueue,
      uiUrl,
      temporalAddress,
      simulatorUrl,
      apiUrl,
      deps,
      workers,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
