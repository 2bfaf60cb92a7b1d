import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config/config';
import { logIdleErrors, openDatabase } from '../db/connection';
import { migrateToLatest } from '../db/migrate';
import { createLogger } from '../logger';
import { credentialKey } from '../ringcentral/credential-key';
import { startApi } from '../stack/api-process';
import { ensureSubscriptionWorkflow } from '../webhooks/subscription-keeper';
import { faxClientFor } from '../workers/dependencies';
import { untilInterrupted } from '../workers/runtime';

/**
 * `faxflow api`: the HTTP API and RingCentral webhook receiver, against a running Temporal and
 * workers. It also makes sure the credential's SubscriptionWorkflow points RingCentral at
 * FAXFLOW_PUBLIC_URL (or the API's own URL).
 */
export async function runApi(out: (line: string) => void): Promise<number> {
  const config = loadConfig();
  if (!config.temporalAddress) {
    throw new ConfigError(
      'faxflow api needs TEMPORAL_ADDRESS (host:port of Temporal); for everything on one machine, run faxflow dev.',
    );
  }
  if (!config.ringcentral) {
    throw new ConfigError(
      'faxflow api needs RINGCENTRAL_CLIENT_ID, RINGCENTRAL_CLIENT_SECRET and RINGCENTRAL_JWT, like the workers.',
    );
  }
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config, logIdleErrors(logger));
  let connection: Connection | undefined;
  try {
    await migrateToLatest(database.db);
    connection = await Connection.connect({ address: config.temporalAddress });
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const faxClient = faxClientFor(config, client, undefined, {
      db: database.db,
      defaultConnectionId: credentialKey(config.ringcentral),
    });
    const api = await startApi({ config, client, db: database.db, faxClient, logger });
    try {
      const address = `${config.publicUrl ?? api.url}/webhooks/ringcentral`;
      await ensureSubscriptionWorkflow(client, config.taskQueue, {
        credentialKey: credentialKey(config.ringcentral),
        address,
      });
      out(`faxflow API at ${api.url}; RingCentral webhooks go to ${address}`);
      out(`${await untilInterrupted()}: stopping`);
    } finally {
      await api.close();
    }
    return 0;
  } finally {
    await connection?.close();
    await database.close();
  }
}
