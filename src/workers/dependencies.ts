import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createFaxClient, type FaxClient } from '../client/fax-client';
import { admit, penalize } from '../db/rate-limiter';
import { credentialKey } from '../ringcentral/credential-key';
import { singleConnectionPool } from '../ringcentral/single-connection-pool';
import { withRateBudgets, type RateGroup } from '../ringcentral/rate-budgets';
import type { Config } from '../config/config';
import { logIdleErrors, openDatabase, type DatabaseHandle } from '../db/connection';
import { migrateToLatest } from '../db/migrate';
import type { Logger } from '../logger';
import { createSdkRingCentralClient } from '../ringcentral/sdk-client';
import type { RingCentralClient } from '../ringcentral/types';
import type { DocumentStore } from '../storage/document-store';
import { createLocalDocumentStore } from '../storage/local-document-store';
import type { ActivityDeps } from '../activities';
import { withAdmissionMetrics, withCallMetrics } from '../metrics/ringcentral-metrics';

/** Where RingCentral is: the real platform from the config, or a simulator someone started. */
export interface RingCentralTarget {
  serverUrl: string;
  clientId: string;
  clientSecret: string;
  jwt: string;
}

/** RingCentral's window is 60 s; one more second absorbs network delay between us and its counter. */
export const RATE_WINDOW_MS = 61_000;

/**
 * How far ahead an activity may hold a reserved slot and wait for it, well inside its
 * start-to-close timeout (sends: 3 min; reads: 1 min). Beyond that it retries later.
 */
const MAX_SLOT_WAIT_MS: Record<RateGroup, number> = { Heavy: 60_000, Medium: 20_000, Light: 20_000 };

export interface Dependencies {
  /** Names this RingCentral credential (budgets, subscription, reconciler) without containing it. */
  credentialKey: string;
  database: DatabaseHandle;
  ringcentral: RingCentralClient;
  documents: DocumentStore;
  activityDeps: ActivityDeps;
  close(): Promise<void>;
}

export function documentStoreFor(config: Pick<Config, 'dataDir'>): DocumentStore {
  return createLocalDocumentStore(path.join(config.dataDir, 'documents'));
}

/** The upstream client as configured: documents in the data folder, workflows on the task queue. */
export function faxClientFor(
  config: Config,
  client: Client,
  documents = documentStoreFor(config),
): FaxClient {
  return createFaxClient({
    client,
    documents,
    taskQueue: config.taskQueue,
    defaultRegion: config.defaultRegion,
    premiumRateTenants: config.premiumRateTenants,
    ...(config.faxPolicy && { defaultPolicy: config.faxPolicy }),
  });
}

/** The composition root: every long-lived dependency is built here, once per process. */
export async function buildDependencies(
  config: Config,
  target: RingCentralTarget,
  logger: Logger,
  opts: { rateWindowMs?: number } = {},
): Promise<Dependencies> {
  const database = await openDatabase(config, logIdleErrors(logger));
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (err) {
    await database.close();
    throw err;
  }
  // Every worker of one credential shares its budgets through Postgres; the key names the
  // credential without containing it.
  const credential = credentialKey(target);
  const bucket = (group: RateGroup) => `ringcentral:${credential}:${group}`;
  const budget = (group: RateGroup) => ({
    limit: config.rateBudgets[group],
    windowMs: opts.rateWindowMs ?? config.rateWindowMs ?? RATE_WINDOW_MS,
  });
  // Metrics inside the budgets: calls and 429s that reached RingCentral; around the admission: waits.
  const ringcentral = withRateBudgets(
    withCallMetrics(createSdkRingCentralClient({ ...target, logger })),
    withAdmissionMetrics((group) =>
      admit(database.db, bucket(group), budget(group), { maxWaitMs: MAX_SLOT_WAIT_MS[group] }),
    ),
    // A 429 closes the group's shared budget for every worker until its Retry-After has passed.
    { penalize: (group, forMs) => penalize(database.db, bucket(group), budget(group), forMs) },
  );
  const documents = documentStoreFor(config);
  return {
    credentialKey: credential,
    database,
    ringcentral,
    documents,
    activityDeps: {
      db: database.db,
      ringcentral,
      // Until the multi-tenant pool (src/connections) is wired here: the environment's credential only.
      connections: singleConnectionPool(credential, ringcentral),
      documents,
      logger,
      defaultRegion: config.defaultRegion,
      premiumRateTenants: config.premiumRateTenants,
      credentialKey: credential,
      deliveryReports: config.deliveryReports,
    },
    async close() {
      await ringcentral.close();
      await database.close();
    },
  };
}
