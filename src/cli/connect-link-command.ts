import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import {
  CONNECT_LINK_TTL_MS,
  DisabledTenantError,
  issueConnectLink,
  UnknownTenantError,
} from '../db/connect-links';
import { openDatabase } from '../db/connection';
import { migrateToLatest } from '../db/migrate';
import { TENANT_ID_PATTERN } from '../db/tenants';
import { UsageError } from './errors';

/**
 * `faxflow connections link --tenant T`: prints a one-time connect link (15 minutes) that lets the
 * tenant connect a RingCentral user through Auth Code + PKCE. The link opens FAXFLOW_PUBLIC_URL
 * (else the API's local address, said so), so it must reach the API that serves /connect/ringcentral.
 */
export async function runConnectLink(args: string[], out: (line: string) => void): Promise<number> {
  let tenant: string | undefined;
  try {
    ({
      values: { tenant },
    } = parseArgs({ args, options: { tenant: { type: 'string' } }, strict: true }));
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.replace(/\.$/, '')}; usage: faxflow connections link --tenant T.`,
    );
  }
  if (tenant === undefined || tenant === '')
    throw new UsageError('faxflow connections link needs --tenant T (faxflow tenants list shows the ids).');
  if (!TENANT_ID_PATTERN.test(tenant))
    throw new UsageError(
      `--tenant "${tenant}" is not a tenant id: ids are 1 to 40 lower-case letters, digits and dashes.`,
    );
  const config = loadConfig();
  const publicUrl = config.publicUrl ?? `http://${config.apiHost}:${config.apiPort}`;
  const database = await openDatabase(config);
  try {
    await migrateToLatest(database.db);
    const url = await issueConnectLink(database.db, tenant, publicUrl);
    out(url);
    out(
      `Valid once, for ${CONNECT_LINK_TTL_MS / 60_000} minutes: send it to the tenant's RingCentral user.` +
        (config.publicUrl === undefined
          ? ' FAXFLOW_PUBLIC_URL is not set, so it opens the API on this machine.'
          : ''),
    );
    return 0;
  } catch (e) {
    if (e instanceof UnknownTenantError || e instanceof DisabledTenantError) throw new UsageError(e.message);
    throw e;
  } finally {
    await database.close();
  }
}
