import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

/**
 * Webhooks count as healthy for a credential when it has an Active, unexpired subscription and a
 * notification arrived recently (or the subscription itself is recent). Workflows then poll
 * rarely; when notifications stop, polling tightens again.
 */
export async function webhooksHealthy(
  db: Kysely<Database>,
  credentialKey: string,
  withinMs: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('ringcentral_subscriptions as s')
    .select((eb) => [
      's.id',
      eb
        .selectFrom('webhook_notifications as n')
        .whereRef('n.subscription_id', '=', 's.id')
        .select((e) => e.fn.max('n.received_at').as('last'))
        .as('last_notification'),
      's.created_at',
    ])
    .where('s.credential_key', '=', credentialKey)
    .where('s.status', '=', 'Active')
    .where('s.expires_at', '>', sql<Date>`now()`)
    .orderBy('s.created_at', 'desc')
    .executeTakeFirst();
  if (!row) return false;
  const last = Math.max(new Date(row.last_notification ?? 0).getTime(), new Date(row.created_at).getTime());
  return Date.now() - last < withinMs;
}
