import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema';
import type { SecretCipher } from '../db/webhook-endpoint-secrets';
import type { DeliveryReportsMode } from '../domain/fax-status';
import type { RingCentralConnectionPool } from '../ringcentral/connections';
import type { RingCentralClient } from '../ringcentral/types';
import type { DocumentStore } from '../storage/document-store';
import type { SendLeaseTimings } from './send-lease';

/** Everything activities touch, built once by the worker's composition root (tests pass fakes). */
export interface ActivityDeps {
  db: Kysely<Database>;
  /** The worker's own credential: for tasks without a `connectionId` (runs from before connections). */
  ringcentral: RingCentralClient;
  /** A client per RingCentral connection: activities act for the job's (`args.connectionId`). */
  connections: RingCentralConnectionPool;
  documents: DocumentStore;
  logger: Logger;
  /** Opens webhook endpoint signing secrets (FAXFLOW_ENCRYPTION_KEY, the same keys as the API's). */
  secrets: SecretCipher;
  /** Region used to read national-format numbers, e.g. 'US'. */
  defaultRegion: string;
  /**
   * Names the worker's own credential (ringcentral/credential-key.ts); it is also the id of the
   * default tenant's connection, so tasks without a `connectionId` act for that connection.
   */
  credentialKey: string;
  /** Tenants allowed to fax premium-rate numbers (`*` = all); default none. */
  premiumRateTenants?: readonly string[];
  /** Whether Sent is final for this credential's account (see DeliveryReportsMode). Default auto. */
  deliveryReports?: DeliveryReportsMode;
  /** Webhooks count as healthy while a notification arrived within this window. Default 10 min. */
  webhookHealthWindowMs?: number;
  /** How long a credential's webhook health is reused in this process (webhook-health.ts). Default 2 s; 0: never. */
  webhookHealthCacheMs?: number;
  /**
   * Makes sure a connection's subscription keeper runs (and so its reconciler can be started by the
   * receiver); called when a job for it is registered. Absent: webhooks are not run by this fleet.
   */
  ensureConnectionUpkeep?: (connectionId: string, client: Client, taskQueue: string) => Promise<void>;
  /** Send lease timings (see send-lease.ts); tests shorten them. */
  sendLease?: Partial<SendLeaseTimings>;
  /** Document uploads at once in this process (each holds its documents in memory). Default 4. */
  maxConcurrentUploads?: number;
}
