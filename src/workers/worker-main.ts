import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { startWebhookDispatcher, type WebhookDispatcher } from '../events/dispatcher';
import { createActivities } from '../activities';
import { ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../logger';
import { startMetricsServer, temporalMetricsSource } from '../metrics/metrics-server';
import { freePort } from '../stack/free-port';
import { buildDependencies, type Dependencies } from './dependencies';
import { createFaxWorkers, runWorkers } from './fax-workers';
import { installTemporalRuntime, untilInterrupted } from './runtime';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { connectionUpkeep } from '../webhooks/subscription-keeper';

/**
 * `faxflow worker`: one production worker process. Needs a Temporal cluster (TEMPORAL_ADDRESS) and
 * RingCentral credentials; Postgres is DATABASE_URL (or the embedded one for a single machine).
 * Run as many as you like: rate budgets and exactly-once sends hold across all of them.
 */
export async function runWorker(out: (line: string) => void): Promise<number> {
  const config = loadConfig();
  if (!config.temporalAddress) {
    throw new ConfigError(
      'faxflow worker needs TEMPORAL_ADDRESS (host:port of Temporal); for everything on one machine, run faxflow dev.',
    );
  }
  if (!config.ringcentral) {
    throw new ConfigError(
      'faxflow worker needs RINGCENTRAL_CLIENT_ID, RINGCENTRAL_CLIENT_SECRET and RINGCENTRAL_JWT (and RINGCENTRAL_SERVER_URL for a simulator).',
    );
  }
  const logger = createLogger(config.logLevel);
  // Core binds its exporter itself: on loopback, re-served with ours on FAXFLOW_METRICS_PORT.
  const temporalMetrics = config.metricsPort !== undefined ? `127.0.0.1:${await freePort()}` : undefined;
  const metrics =
    config.metricsPort !== undefined
      ? await startMetricsServer({
          host: config.metricsHost,
          port: config.metricsPort,
          ...(temporalMetrics && { extra: temporalMetricsSource(temporalMetrics) }),
        })
      : undefined;
  let deps: Dependencies | undefined;
  let connection: NativeConnection | undefined;
  let clientConnection: Connection | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  try {
    if (metrics) out(`faxflow worker metrics at ${metrics.url}`);
    installTemporalRuntime(config.logLevel === 'debug' ? 'DEBUG' : 'WARN', logger, {
      ...(temporalMetrics && { metricsBindAddress: temporalMetrics }),
    });
    deps = await buildDependencies(config, config.ringcentral, logger);
    // The API process keeps the environment credential's subscription; a connection's keeper starts
    // with the connection's first job, where the receiver's public address is known.
    if (config.publicUrl)
      deps.activityDeps.ensureConnectionUpkeep = connectionUpkeep({
        address: `${config.publicUrl}/webhooks/ringcentral`,
      });
    connection = await NativeConnection.connect({ address: config.temporalAddress });
    const workflowBundle = prebuiltWorkflowBundle();
    const workers = await createFaxWorkers({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      activities: createActivities(deps.activityDeps),
      ...(workflowBundle && { workflowBundle }),
      ...(config.maxCachedWorkflows !== undefined && { maxCachedWorkflows: config.maxCachedWorkflows }),
    });
    const running = runWorkers(workers);
    // Outbox → delivery workflows for upstream event webhooks (one leader across all workers).
    clientConnection = await Connection.connect({ address: config.temporalAddress });
    dispatcher = startWebhookDispatcher({
      db: deps.database.db,
      client: new Client({ connection: clientConnection, namespace: config.temporalNamespace }),
      taskQueue: config.taskQueue,
      logger,
    });
    out(
      `faxflow worker polling ${config.taskQueue} on ${config.temporalAddress} (namespace ${config.temporalNamespace}); ` +
        `workflows ${workflowBundle ? `from the prebuilt bundle ${workflowBundle.codePath}` : 'bundled from source'}`,
    );
    const stopped = await Promise.race([untilInterrupted(), running.then(() => 'workers stopped' as const)]);
    out(`${stopped}: draining and stopping`);
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
    return 0;
  } finally {
    await dispatcher?.stop();
    await clientConnection?.close();
    await connection?.close();
    await deps?.close();
    await metrics?.close();
  }
}
