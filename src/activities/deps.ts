import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema';
import type { DeliveryReportsMode } from '../domain/fax-status';
import type { RingCentralClient } from '../ringcentral/types';
import type { DocumentStore } from '../storage/document-store';
import type { SendLeaseTimings } from './send-lease';

/** Everything activities touch, built once by the worker's composition root (tests pass fakes). */
export interface ActivityDeps {
  db: Kysely<Database>;
  ringcentral: RingCentralClient;
  documents: DocumentStore;
  logger: Logger;
  /** Region used to read national-format numbers, e.g. 'US'. */
  defaultRegion: string;
  /** Names the RingCentral credential these activities use (see ringcentral/credential-key.ts). */
  credentialKey: string;
  /** Tenants allowed to fax premium-rate numbers (`*` = all); default none. */
  premiumRateTenants?: readonly string[];
  /** Whether Sent is final for this credential's account (see DeliveryReportsMode). Default auto. */
  deliveryReports?: DeliveryReportsMode;
  /** Webhooks count as healthy while a notification arrived within this window. Default 10 min. */
  webhookHealthWindowMs?: number;
  /** Send lease timings (see send-lease.ts); tests shorten them. */
  sendLease?: Partial<SendLeaseTimings>;
  /** Document uploads at once in this process (each holds its documents in memory). Default 4. */
  maxConcurrentUploads?: number;
}
