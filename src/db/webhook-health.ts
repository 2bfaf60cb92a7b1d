import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

export interface WebhookHealthOptions {
  /** Webhooks count as flowing while a notification was processed within this window. */
  withinMs: number;
  /**
   * A fax sent this long ago with no notification since is proof that none are coming (the
   * subscription vanished): RingCentral announces every new fax within seconds. Default 120 s.
   */
  silenceMs?: number;
}

/** The reason given when a sent fax went unannounced: the subscription has likely vanished. */
export const SILENT_REASON = 'a sent fax was never announced';

export interface WebhookHealth {
  healthy: boolean;
  /** Why not, in one phrase; absent when healthy. */
  reason?: string;
  /** The subscription judged, if the credential has a live one. */
  subscriptionId?: string;
}

/**
 * Whether status webhooks flow for a credential: an Active, unexpired subscription, a notification
 * *processed* (handed to the reconciler, not merely received) within `withinMs` (or the
 * subscription itself is that recent), and no fax sent more than `silenceMs` ago left unannounced.
 * Every time is compared with the database's `now()`: workers' clocks may disagree with it and
 * with each other.
 */
export async function webhookHealth(
  db: Kysely<Database>,
  credentialKey: string,
  opts: WebhookHealthOptions,
): Promise<WebhookHealth> {
  const silenceMs = opts.silenceMs ?? 120_000;
  const within = sql`make_interval(secs => ${opts.withinMs / 1000})`;
  const silence = sql`make_interval(secs => ${silenceMs / 1000})`;
  const result = await sql<{
    id: string;
    fresh: boolean;
    silent: boolean;
  }>`
    with s as (
      select s.id, s.created_at,
        (select n.received_at from webhook_notifications n
          where n.subscription_id = s.id and n.processed_at is not null
          order by n.received_at desc limit 1) as last_processed,
        (select n.received_at from webhook_notifications n
          where n.subscription_id = s.id
          order by n.received_at desc limit 1) as last_received
      from ringcentral_subscriptions s
      where s.credential_key = ${credentialKey} and s.status = 'Active' and s.expires_at > now()
      order by s.created_at desc
      limit 1
    )
    select s.id,
      greatest(s.last_processed, s.created_at) > now() - ${within} as fresh,
      exists (
        select 1 from fax_attempts a join fax_jobs j on j.id = a.job_id
        where j.connection_id = ${credentialKey} and j.completed_at is null
          and a.message_id is not null and a.status in ('Queued', 'Sent')
          and a.started_at > greatest(s.created_at, now() - ${within})
          and a.started_at < now() - ${silence}
          and a.started_at > coalesce(s.last_received, '-infinity'::timestamptz)
      ) as silent
    from s`.execute(db);
  const row = result.rows[0];
  if (!row) return { healthy: false, reason: 'no active subscription' };
  if (!row.fresh)
    return { healthy: false, reason: 'no notification processed lately', subscriptionId: row.id };
  if (row.silent) {
    return { healthy: false, reason: SILENT_REASON, subscriptionId: row.id };
  }
  return { healthy: true, subscriptionId: row.id };
}

/** `webhookHealth(...).healthy`: workflows poll rarely while true, at the normal rate otherwise. */
export async function webhooksHealthy(
  db: Kysely<Database>,
  credentialKey: string,
  withinMs: number,
  silenceMs?: number,
): Promise<boolean> {
  const h = await webhookHealth(db, credentialKey, {
    withinMs,
    ...(silenceMs !== undefined && { silenceMs }),
  });
  return h.healthy;
}
