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
  /** The slot's time: planned, then when its request left, then when it ended (only ever later). */
  at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** Its request has left and not ended: RingCentral may count it at any moment. */
  in_flight: Generated<boolean>;
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

/** A one-time link that starts a tenant's RingCentral connect flow (see db/connect-links.ts). */
export interface ConnectLinksTable {
  id: string;
  tenant_id: string;
  /** sha256 (hex) of the link's random token; the token itself is never stored */
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

/** An Auth Code + PKCE flow under way: its state (hashed) and its code verifier (encrypted). */
export interface ConnectStatesTable {
  state_hash: string;
  tenant_id: string;
  link_id: string | null;
  code_verifier_enc: string;
  redirect_uri: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

/** A RingCentral user a tenant connected (see db/ringcentral-connections.ts). */
export interface RingCentralConnectionsTable {
  id: string;
  tenant_id: string;
  kind: 'jwt' | 'pkce';
  server_url: string;
  client_id: string;
  account_id: string | null;
  extension_id: string | null;
  label: ColumnType<string, string | undefined, string>;
  status: ColumnType<
    'active' | 'needs-reconnect' | 'revoked',
    'active' | 'needs-reconnect' | 'revoked' | undefined
  >;
  status_reason: string | null;
  /** base64(iv | GCM tag | ciphertext) of the token set (and a JWT connection's assertion). */
  token_ciphertext: string;
  /** Which key of FAXFLOW_ENCRYPTION_KEY sealed it. */
  token_key_id: string;
  token_version: ColumnType<number, number | undefined, number>;
  access_token_expires_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  connected_at: Timestamp | null;
}

/** An API key of a tenant (see db/api-keys.ts): only its SHA-256 is kept. */
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  /** The first characters of the key, shown in listings so that people can tell keys apart. */
  prefix: string;
  hash: string;
  name: string | null;
  created_at: CreatedAt;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

/** An `Idempotency-Key` of a tenant and the answer it got (see db/v1-idempotency.ts). */
export interface IdempotencyKeysTable {
  tenant_id: string;
  key: string;
  fingerprint: string;
  /** Null while the first request with the key is being processed. */
  status_code: number | null;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: CreatedAt;
  completed_at: Timestamp | null;
}

/** A document uploaded through `POST /v1/documents`, referenced later by its id. */
export interface ApiDocumentsTable {
  id: string;
  tenant_id: string;
  sha256: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  created_at: CreatedAt;
}

/** A fax accepted through the HTTP API v1 (see db/v1-faxes.ts). */
export interface ApiFaxSubmissionsTable {
  tenant_id: string;
  job_id: string;
  workflow_id: string;
  broadcast_id: string | null;
  recipient: string;
  recipient_name: string | null;
  documents: ColumnType<DocumentRef[], string, string>;
  send_at: Timestamp | null;
  metadata: ColumnType<Record<string, string>, string | undefined, string>;
  created_at: CreatedAt;
}

/** An upstream endpoint a tenant registered for signed event webhooks (see events/). */
export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  events: ColumnType<string[], string[], string[]>;
  description: string | null;
  /**
   * Legacy plaintext (before migration 2026-11-27T1700): null on every sealed row, kept one release
   * for the previous release's inserts during a rolling deploy. Read only to seal it.
   */
  secret: ColumnType<string | null, string | null | undefined, string | null>;
  previous_secret: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * The signing secrets, sealed (db/webhook-endpoint-secrets.ts): never returned after creation or
   * rotation, never logged, never in a workflow payload. Null only on a legacy row not sealed yet.
   */
  secret_ciphertext: string | null;
  secret_key_id: string | null;
  previous_secret_expires_at: Timestamp | null;
  status: ColumnType<'enabled' | 'disabled', 'enabled' | 'disabled' | undefined, 'enabled' | 'disabled'>;
  disabled_reason: string | null;
  disabled_at: Timestamp | null;
  first_failure_at: Timestamp | null;
  created_at: CreatedAt;
  deleted_at: Timestamp | null;
}

/** The outbox: one row per event, written in the same statement as the status change. */
export interface WebhookEventsTable {
  id: Generated<string>;
  event_id: string;
  tenant_id: string;
  job_id: string;
  type: string;
  sequence: number;
  payload: ColumnType<Record<string, unknown>, string, string>;
  body: string | null;
  created_at: CreatedAt;
  dispatched_at: Timestamp | null;
}

export interface WebhookJobSequencesTable {
  job_id: string;
  last_sequence: number;
}

/** Every delivery attempt of an event to an endpoint. */
export interface WebhookDeliveriesTable {
  id: Generated<string>;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: CreatedAt;
}

export interface Database {
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  api_documents: ApiDocumentsTable;
  api_fax_submissions: ApiFaxSubmissionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_job_sequences: WebhookJobSequencesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  tenants: TenantsTable;
  connect_links: ConnectLinksTable;
  connect_states: ConnectStatesTable;
  ringcentral_connections: RingCentralConnectionsTable;
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
export type ConnectLink = Selectable<ConnectLinksTable>;
export type ConnectState = Selectable<ConnectStatesTable>;
export type RingCentralConnectionRow = Selectable<RingCentralConnectionsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type ApiFaxSubmission = Selectable<ApiFaxSubmissionsTable>;
export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type WebhookEventRow = Selectable<WebhookEventsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
