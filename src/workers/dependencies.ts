import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createFaxClient, type FaxClient } from '../client/fax-client';
import { createConnectionPool } from '../connections/connection-pool';
import { createConnectionRegistry, ensureEnvironmentConnection } from '../connections/registry';
import { loadTokenCipher, type TokenCipher } from '../connections/token-cipher';
import { sealPlaintextWebhookSecrets } from '../db/webhook-endpoint-secrets';
import { ConnectionTokenStore } from '../connections/token-store';
import { credentialKey } from '../ringcentral/credential-key';
import { resolveJobConnection } from '../db/job-connections';
import type { Db } from '../db/schema';
import type { ConnectionRegistry, RingCentralConnectionPool } from '../ringcentral/connections';
import type { RateGroup } from '../ringcentral/rate-budgets';
import type { Config } from '../config/config';
import { logIdleErrors, openDatabase, type DatabaseHandle } from '../db/connection';
import { migrateToLatest } from '../db/migrate';
import type { Logger } from '../logger';
import type { RingCentralClient } from '../ringcentral/types';
import type { DocumentStore } from '../storage/document-store';
import { createLocalDocumentStore } from '../storage/local-document-store';
import type { ActivityDeps } from '../activities';

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
 * start-to-close timeout (sends: 3 min; reads: 1 min). A refused call asks again in-process for as
 * long again (withRateBudgets' patience); beyond that it retries later (Temporal's retry with the
 * budget's `nextRetryDelay`). Sends wait only briefly: a waiting send holds one of
 * the worker's few send slots, so a long wait for one tenant's exhausted budget would delay every
 * other tenant's sends behind it.
 *
 * Not scaled with a time-scaled window (FAXFLOW_RATE_WINDOW_MS in the benches): there a 5 s wait
 * only lets a send reserve up to two windows ahead. Measured in bench:rate (issue 13, 3 s windows)
 * it is not what limits the budget's use: each send left a window (+2 %) after the one 10 before it.
 * It did refuse sends whose slot lay just past it (228 Temporal retries for 100 faxes, most for a
 * slot under 100 ms away); those now ask again in-process. Scaled down to 5/61 of the window,
 * nearly every send past the first window would be refused and retried through Temporal instead.
 */
const MAX_SLOT_WAIT_MS: Record<RateGroup, number> = { Heavy: 5_000, Medium: 20_000, Light: 20_000 };

export interface Dependencies {
  /** Names this RingCentral credential (budgets, subscription, reconciler) without containing it. */
  credentialKey: string;
  database: DatabaseHandle;
  /** The environment credential's client: the default tenant's connection `credentialKey`. */
  ringcentral: RingCentralClient;
  /** Every connection's client (bounded, per-connection budgets, tokens shared through Postgres). */
  connections: RingCentralConnectionPool;
  /** Stores connections (the PKCE connect routes' side). */
  connectionRegistry: ConnectionRegistry;
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
  /**
   * Where tenants' connections are: a job is sent by its tenant's connection (the requested one, or
   * the tenant's only active one); `default` falls back to the environment's credential. Without
   * it, only the default tenant can submit (others are refused: NO_CONNECTION).
   */
  connections?: { db: Db; defaultConnectionId?: string },
): FaxClient {
  return createFaxClient({
    client,
    documents,
    ...(connections && {
      resolveConnection: (tenantId: string, requested?: string) =>
        resolveJobConnection(connections.db, tenantId, requested, {
          ...(connections.defaultConnectionId !== undefined && {
            defaultConnectionId: connections.defaultConnectionId,
          }),
        }),
    }),
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
  opts: {
    rateWindowMs?: number;
    /** How far ahead a call may wait for its budget's slot, by group (default MAX_SLOT_WAIT_MS). */
    maxSlotWaitMs?: Partial<Record<RateGroup, number>>;
    /** The RingCentral adapter's upper bound for one HTTP exchange (default: the adapter's). */
    requestTimeoutMs?: number;
  } = {},
): Promise<Dependencies> {
  const database = await openDatabase(config, logIdleErrors(logger));
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (err) {
    await database.close();
    throw err;
  }
  // Every worker of one credential shares its budgets and its token set through Postgres; the key
  // names the credential without containing it, and is the id of its connection.
  const credential = credentialKey(target);
  const budget = (group: RateGroup) => ({
    limit: config.rateBudgets[group],
    windowMs: opts.rateWindowMs ?? config.rateWindowMs ?? RATE_WINDOW_MS,
  });
  let connections: RingCentralConnectionPool;
  let connectionRegistry: ConnectionRegistry;
  let cipher: TokenCipher;
  try {
    cipher = await loadTokenCipher(config, (msg, file) => logger.warn({ file }, msg));
    // Webhook signing secrets stored in clear by a release before 2026-11-27T1700 (or by one still
    // running during a rolling deploy) are sealed now; a delivery would seal its endpoint's anyway.
    const sealed = await sealPlaintextWebhookSecrets(database.db, cipher);
    if (sealed > 0) logger.info({ sealed }, 'encrypted webhook endpoint secrets stored in clear');
    const tokens = new ConnectionTokenStore({
      db: database.db,
      cipher,
      // faxflow holds the secret of one app: the environment's (PKCE connections of it included).
      appSecret: (serverUrl, clientId) =>
        serverUrl === target.serverUrl && clientId === target.clientId ? target.clientSecret : undefined,
      logger,
    });
    connectionRegistry = createConnectionRegistry({ db: database.db, cipher });
    await ensureEnvironmentConnection(
      { db: database.db, cipher },
      { id: credential, serverUrl: target.serverUrl, clientId: target.clientId, jwt: target.jwt },
      logger,
    );
    connections = createConnectionPool({
      db: database.db,
      tokens,
      budget,
      maxSlotWaitMs: { ...MAX_SLOT_WAIT_MS, ...opts.maxSlotWaitMs },
      ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
      logger,
    });
  } catch (err) {
    await database.close();
    throw err;
  }
  const ringcentral = connectionClient(connections, credential);
  const documents = documentStoreFor(config);
  return {
    credentialKey: credential,
    database,
    ringcentral,
    connections,
    connectionRegistry,
    documents,
    activityDeps: {
      db: database.db,
      ringcentral,
      connections,
      documents,
      logger,
      secrets: cipher,
      defaultRegion: config.defaultRegion,
      premiumRateTenants: config.premiumRateTenants,
      credentialKey: credential,
      deliveryReports: config.deliveryReports,
    },
    async close() {
      await connections.close();
      await database.close();
    },
  };
}

/**
 * A client that always speaks for one connection, through the pool (so it survives the pool
 * dropping that connection's client, and sees the connection's status on every call).
 */
export function connectionClient(pool: RingCentralConnectionPool, connectionId: string): RingCentralClient {
  const client = () => pool.forConnection(connectionId);
  return {
    sendFax: async (...args) => (await client()).sendFax(...args),
    getMessage: async (...args) => (await client()).getMessage(...args),
    listOutboundFaxes: async (...args) => (await client()).listOutboundFaxes(...args),
    deleteMessage: async (...args) => (await client()).deleteMessage(...args),
    createSubscription: async (...args) => (await client()).createSubscription(...args),
    getSubscription: async (...args) => (await client()).getSubscription(...args),
    renewSubscription: async (...args) => (await client()).renewSubscription(...args),
    deleteSubscription: async (...args) => (await client()).deleteSubscription(...args),
    listSubscriptions: async () => (await client()).listSubscriptions(),
    // The pool owns the clients; Dependencies.close closes it.
    close: async () => undefined,
  };
}
