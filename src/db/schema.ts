import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { DocumentRef } from '../storage/document-store';

/** Timestamps are written as Date or ISO strings and always read back as Date. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

/** One row per recipient job: what was asked, where it stands, how it ended. */
export interface FaxJobsTable {
  /** The job's workflow id: unique across tenants (see contracts/workflow-ids.ts). */
  id: string;
  workflow_id: string;
  /** The job's id within its tenant: the idempotency key (or one generated at submission). */
  job_key: string;
  /** The first run of the workflow that created the row; null for rows from before it was kept. */
  workflow_run_id: ColumnType<string | null, string | null | undefined, string | null>;
  tenant_id: ColumnType<string, string | undefined, string>;
  /** The RingCentral connection that sends it (ringcentral/connections.ts); null: the worker's own. */
  connection_id: string | null;
  /** Before connections: the credential that sent it. Copied into connection_id; no longer written. */
  credential_key: ColumnType<string | null, string | null | undefined, string | null>;
  recipient: string;
  documents: ColumnType<DocumentRef[], string, string>;
  /** SHA-256 over the documents' hashes in order: one fingerprint for the whole document set. */
  sha256: string;
  size_bytes: number;
  pages: number | null;
  status: string;
  message_id: string | null;
  attempts: Generated<number>;
  send_at: Timestamp | null;
  error_code: string | null;
  error_message: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  completed_at: Timestamp | null;
}

/** One row per send attempt: every RingCentral message id we ever obtained is here. */
export interface FaxAttemptsTable {
  id: Generated<number>;
  job_id: string;
  attempt_no: number;
  message_id: string | null;
  status: string;
  fax_error_code: string | null;
  error_code: string | null;
  error_message: string | null;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  /** The execution that may be sending this attempt, and until when (see send-lease.ts). */
  lease_token: string | null;
  lease_until: Timestamp | null;
  credential_key: string | null;
  recipient: string | null;
}

/** Every status observation, with where it came from; the audit trail of a job. */
export interface FaxEventsTable {
  id: Generated<number>;
  job_id: string;
  attempt_no: number | null;
  message_id: string | null;
  status: string;
  fax_error_code: string | null;
  source: string;
  detail: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  observed_at: CreatedAt;
}

/** Calls admitted against a shared rate budget; see `rate-limiter.ts`. */
export interface RateLimitEventsTable {
  id: Generated<number>;
  bucket: string;
  at: CreatedAt;
}

/** A RingCentral webhook subscription we created; its token authenticates notifications. */
export interface RingCentralSubscriptionsTable {
  id: string;
  credential_key: string;
  verification_token: string;
  address: string;
  /** RingCentral's status: Active, Suspended, Blacklisted; or Deleted once we removed it. */
  status: string;
  expires_at: Timestamp;
  /** The task queue of the fleet whose workers hold this credential (null: rows from before). */
  task_queue: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A notification as received, kept until the reconciler has acted on it. */
export interface WebhookNotificationsTable {
  id: Generated<number>;
  subscription_id: string;
  uuid: string | null;
  body: ColumnType<Record<string, unknown>, string, string>;
  received_at: CreatedAt;
  processed_at: Timestamp | null;
}

/** A credential whose account was seen reporting delivery (see db/delivery-reports.ts). */
export interface RingCentralDeliveryReportsTable {
  credential_key: string;
  first_status: string;
  message_id: string;
  seen_at: CreatedAt;
}

/** A customer faxflow sends for (see db/tenants.ts). */
export interface TenantsTable {
  id: string;
  name: string;
  default_region: string | null;
  default_cover: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  disabled_at: Timestamp | null;
}

export interface Database {
  tenants: TenantsTable;
  ringcentral_delivery_reports: RingCentralDeliveryReportsTable;
  rate_limit_events: RateLimitEventsTable;
  ringcentral_subscriptions: RingCentralSubscriptionsTable;
  webhook_notifications: WebhookNotificationsTable;
  fax_jobs: FaxJobsTable;
  fax_attempts: FaxAttemptsTable;
  fax_events: FaxEventsTable;
}

/** What every repository function takes: the database itself, or a transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

export type FaxJob = Selectable<FaxJobsTable>;
export type NewFaxJob = Insertable<FaxJobsTable>;
export type FaxJobUpdate = Updateable<FaxJobsTable>;
export type FaxAttempt = Selectable<FaxAttemptsTable>;
export type FaxEvent = Selectable<FaxEventsTable>;
export type Tenant = Selectable<TenantsTable>;
