import path from 'node:path';
import type { Client, ConnectionLike } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { startApiServer, type ApiServer } from '../api/server';
import type { FaxClient } from '../client/fax-client';
import type { Config } from '../config/config';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { createNotificationProcessor } from '../webhooks/notification-processor';
import { temporalWorkflowControl } from '../api/v1/workflow-control';
import { connectDepsFromConfig, type ConnectRingCentralDeps } from '../api/plugins/connect-ringcentral';
import { createConnectionRegistry } from '../connections/registry';
import { loadTokenCipher } from '../connections/token-cipher';
import { sealPlaintextWebhookSecrets } from '../db/webhook-endpoint-secrets';
import { v1EventRoutes } from '../events/v1-routes';
import { createLocalDocumentStore } from '../storage/local-document-store';
import { notifyConnectionRestored } from '../webhooks/connection-restored';

/** How long an HTTP request may wait for Temporal before it answers 503 (the SDK retries for ~20 s). */
export const TEMPORAL_CALL_DEADLINE_MS = 5_000;

/**
 * Every method of `target` that calls Temporal runs under a gRPC deadline, so that a Temporal
 * outage costs a request a few seconds and a 503, not the SDK's long retry loop and a 500. The
 * deadline travels in the connection's async context, covering every call the method makes.
 */
export function withTemporalDeadline<T extends object>(
  target: T,
  connection: Pick<ConnectionLike, 'withDeadline'>,
  ms: number,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        connection.withDeadline(Date.now() + ms, () =>
          Promise.resolve((value as (...a: unknown[]) => unknown).apply(obj, args)),
        );
    },
  });
}

/** The HTTP API with its webhook receiver wired to the reconciler, on the configured host and port. */
export async function startApi(deps: {
  config: Config;
  client: Client;
  db: Kysely<Database>;
  faxClient: FaxClient;
  logger: Logger;
  port?: number;
  /**
   * Called when a tenant (re)connects a RingCentral user through the connect link. Default: the
   * connection's jobs waiting with `WaitingForConnection` are signalled and continue at once.
   */
  onConnected?: ConnectRingCentralDeps['onConnected'];
  /** The webhook receiver's reconciler batching (tests shorten it; production keeps the default 1 s). */
  notifications?: { coalesceMs?: number };
}): Promise<ApiServer> {
  const port = deps.port ?? deps.config.apiPort;
  // The Auth Code + PKCE connect routes store connections, and the webhook endpoint routes seal
  // signing secrets, with the workers' encryption keys.
  const cipher = await loadTokenCipher(deps.config, (msg, file) => deps.logger.warn({ file }, msg));
  const registry = createConnectionRegistry({ db: deps.db, cipher });
  const sealed = await sealPlaintextWebhookSecrets(deps.db, cipher);
  if (sealed > 0) deps.logger.info({ sealed }, 'encrypted webhook endpoint secrets stored in clear');
  // A reconnect wakes the connection's jobs that wait with status WaitingForConnection at once
  // (they would otherwise notice at their next periodic check, within 5 minutes).
  const wakeWaitingJobs = async (connectionId: string): Promise<void> => {
    await notifyConnectionRestored(deps.client, deps.db, connectionId).then(
      (told) => deps.logger.info({ connectionId, told }, 'told the connection’s open jobs it is back'),
      (err: unknown) =>
        deps.logger.warn({ err, connectionId }, 'could not tell the connection’s jobs it is back'),
    );
  };
  const connect = connectDepsFromConfig(deps.config, {
    registry,
    localUrl: `http://${deps.config.apiHost}:${port}`,
    onConnected: deps.onConnected ?? wakeWaitingJobs,
  });
  const onNotification = createNotificationProcessor({
    db: deps.db,
    client: deps.client,
    taskQueue: deps.config.taskQueue,
    ...(deps.notifications?.coalesceMs !== undefined && { coalesceMs: deps.notifications.coalesceMs }),
  });
  try {
    return await startApiServer(
      {
        db: deps.db,
        faxClient: withTemporalDeadline(deps.faxClient, deps.client.connection, TEMPORAL_CALL_DEADLINE_MS),
        onNotification,
        logger: deps.logger,
        ...(connect && { connect }),
        v1: {
          faxClient: withTemporalDeadline(deps.faxClient, deps.client.connection, TEMPORAL_CALL_DEADLINE_MS),
          control: withTemporalDeadline(
            temporalWorkflowControl(deps.client),
            deps.client.connection,
            TEMPORAL_CALL_DEADLINE_MS,
          ),
          // The same folder as documentStoreFor(config): uploads are streamed into it.
          documentsRoot: path.join(deps.config.dataDir, 'documents'),
          defaultRegion: deps.config.defaultRegion,
          premiumRateTenants: deps.config.premiumRateTenants,
          // Webhook endpoints and report.pdf (src/events), behind the same key and rate limit.
          extraRoutes: [
            v1EventRoutes({
              db: deps.db,
              cipher,
              documents: createLocalDocumentStore(path.join(deps.config.dataDir, 'documents')),
            }),
          ],
        },
        readiness: {
          temporal: () =>
            deps.client.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
              deps.client.workflowService.getSystemInfo({}),
            ),
        },
      },
      { host: deps.config.apiHost, port },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `Port ${deps.port ?? deps.config.apiPort} on ${deps.config.apiHost} is taken; set FAXFLOW_API_PORT to a free port.`,
      );
    }
    throw err;
  }
}
