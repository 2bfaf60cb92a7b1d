import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { startApiServer, type ApiServer } from '../api/server';
import type { FaxClient } from '../client/fax-client';
import type { Config } from '../config/config';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { createNotificationProcessor } from '../webhooks/notification-processor';

/** The HTTP API with its webhook receiver wired to the reconciler, on the configured host and port. */
export async function startApi(deps: {
  config: Config;
  client: Client;
  db: Kysely<Database>;
  faxClient: FaxClient;
  logger: Logger;
  port?: number;
}): Promise<ApiServer> {
  const onNotification = createNotificationProcessor({
    db: deps.db,
    client: deps.client,
    taskQueue: deps.config.taskQueue,
  });
  try {
    return await startApiServer(
      { db: deps.db, faxClient: deps.faxClient, onNotification, logger: deps.logger },
      { host: deps.config.apiHost, port: deps.port ?? deps.config.apiPort },
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
