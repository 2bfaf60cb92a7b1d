import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/2026-11-26T1200_initial';
import * as rateLimits from './migrations/2026-11-26T1300_rate_limits';
import * as webhooks from './migrations/2026-11-26T1400_webhooks';
import * as jobCredential from './migrations/2026-11-26T1500_job_credential';
import * as notificationUuid from './migrations/2026-11-26T1600_notification_uuid';
import * as deliveryReports from './migrations/2026-11-27T0800_delivery_reports';
import * as jobRunId from './migrations/2026-11-27T0830_job_run_id';
import * as webhookUpkeep from './migrations/2026-11-27T0900_webhook_upkeep';
import * as attemptLease from './migrations/2026-11-27T0845_attempt_lease';
import * as tenants from './migrations/2026-11-27T1000_tenants';
import * as connectLinks from './migrations/2026-11-27T1030_connect_links';
import * as ringcentralConnections from './migrations/2026-11-27T1010_ringcentral_connections';
import * as apiKeys from './migrations/2026-11-27T1100_api_keys';
import * as webhookEndpoints from './migrations/2026-11-27T1200_webhook_endpoints';
import * as tenantScopedJobs from './migrations/2026-11-27T1020_tenant_scoped_jobs';
import * as admitFunction from './migrations/2026-11-27T1400_admit_function';
import * as rateLimitInFlight from './migrations/2026-11-27T1310_rate_limit_in_flight';
import * as sendClaimFunction from './migrations/2026-11-27T1600_send_claim_function';
import * as webhookSecretsAtRest from './migrations/2026-11-27T1700_webhook_secrets_at_rest';

/**
 * Migrations are listed here rather than discovered on disk, so they work the same under tsx,
 * vitest and a bundled build. Names are timestamps: kysely applies them in name order.
 */
const migrations: Record<string, Migration> = {
  '2026-11-26T1200_initial': initial,
  '2026-11-26T1300_rate_limits': rateLimits,
  '2026-11-26T1400_webhooks': webhooks,
  '2026-11-26T1500_job_credential': jobCredential,
  '2026-11-26T1600_notification_uuid': notificationUuid,
  '2026-11-27T0800_delivery_reports': deliveryReports,
  '2026-11-27T0830_job_run_id': jobRunId,
  '2026-11-27T0900_webhook_upkeep': webhookUpkeep,
  '2026-11-27T0845_attempt_lease': attemptLease,
  '2026-11-27T1000_tenants': tenants,
  '2026-11-27T1030_connect_links': connectLinks,
  '2026-11-27T1010_ringcentral_connections': ringcentralConnections,
  '2026-11-27T1100_api_keys': apiKeys,
  '2026-11-27T1200_webhook_endpoints': webhookEndpoints,
  '2026-11-27T1020_tenant_scoped_jobs': tenantScopedJobs,
  '2026-11-27T1400_admit_function': admitFunction,
  '2026-11-27T1310_rate_limit_in_flight': rateLimitInFlight,
  '2026-11-27T1600_send_claim_function': sendClaimFunction,
  '2026-11-27T1700_webhook_secrets_at_rest': webhookSecretsAtRest,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Applies migrations up to and including `target`: tests of a migration start from the schema before it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateTo(db: Kysely<any>, target: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(target);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${cause}`.replace('  ', ' '));
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
