import { Context } from '@temporalio/activity';
import { subscriptionWorkflowId } from '../contracts/workflow-ids';
import { subscriptionCheckSignal } from '../contracts/workflow-messages';
import { webhookHealth, SILENT_REASON, type WebhookHealth } from '../db/webhook-health';
import { notifyWebhooksDown } from '../webhooks/webhooks-down';
import type { ActivityDeps } from './deps';

const DEFAULT_WINDOW_MS = 10 * 60_000;
/** At most one "check now" per credential and process this often: the check is a RingCentral GET. */
const CHECK_REQUEST_EVERY_MS = 60_000;
const lastCheckRequest = new Map<string, number>();
/** At most one `webhooksDown` round per event and process this often: one poll per open job. */
const TELL_JOBS_EVERY_MS = 5 * 60_000;
const lastToldJobs = new Map<string, number>();

/**
 * Whether this credential's status webhooks are flowing (see db/webhook-health.ts). When a sent fax
 * went unannounced the subscription has likely vanished: the keeper is asked to look at once (a
 * GET that answers 404 recreates it) instead of at its next regular check.
 */
export async function healthy(deps: ActivityDeps, connection: string = deps.credentialKey): Promise<boolean> {
  const h = await cachedHealth(deps, connection);
  if (!h.healthy && h.reason === SILENT_REASON) {
    requestSubscriptionCheck(deps, connection);
    tellJobsWebhooksDown(deps, connection, h.reason);
  }
  return h.healthy;
}

/**
 * How long one process reuses a credential's health (issue 13: the query ran once per send and per
 * poll, under load many times a second for one credential). Staleness bound: a change of health is
 * seen at most this much later than the query would have seen it, which is small beside what the
 * judgement itself waits for (a notification processed within 10 min, a fax unannounced for 2 min)
 * and beside how often workflows act on it (their next poll). Concurrent callers share one query.
 */
export const DEFAULT_HEALTH_CACHE_MS = 2_000;
const cache = new WeakMap<object, Map<string, { until: number; health: Promise<WebhookHealth> }>>();

function cachedHealth(deps: ActivityDeps, connection: string): Promise<WebhookHealth> {
  const withinMs = deps.webhookHealthWindowMs ?? DEFAULT_WINDOW_MS;
  const ttl = deps.webhookHealthCacheMs ?? DEFAULT_HEALTH_CACHE_MS;
  if (ttl <= 0) return webhookHealth(deps.db, connection, { withinMs });
  let entries = cache.get(deps.db);
  if (!entries) cache.set(deps.db, (entries = new Map()));
  const key = `${connection}\n${withinMs}`;
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.until > now) return hit.health;
  if (entries.size >= 1_000) entries.clear();
  const health = webhookHealth(deps.db, connection, { withinMs });
  const entry = { until: now + ttl, health };
  entries.set(key, entry);
  // A failed query is not reused: the next caller asks again.
  health.catch(() => {
    if (entries.get(key) === entry) entries.delete(key);
  });
  return health;
}

/**
 * Signals `webhooksDown` to every open job of the connection, in the background, from inside an
 * activity (its worker's Temporal client): those sleeping until a webhook that will not come poll
 * at once (issue 8 #9d). At most one round per `event` (default: the connection) and process every
 * 5 min, so activity retries and repeated checks of one loss do not make the jobs poll again and
 * again; failures are logged, never thrown.
 */
export function tellJobsWebhooksDown(
  deps: ActivityDeps,
  connection: string,
  reason: string,
  event: string = connection,
): void {
  const now = Date.now();
  const key = `${connection}\n${event}`;
  if (now - (lastToldJobs.get(key) ?? -Infinity) < TELL_JOBS_EVERY_MS) return;
  if (lastToldJobs.size >= 1_000) lastToldJobs.clear();
  lastToldJobs.set(key, now);
  try {
    const client = Context.current().client;
    notifyWebhooksDown(client, deps.db, connection, reason).then(
      (told) => deps.logger.warn({ connection, reason, told }, 'webhooks down: told open jobs to poll now'),
      (err: unknown) => {
        // Let the next check try again instead of waiting out the throttle.
        lastToldJobs.delete(key);
        deps.logger.warn({ err, connection }, 'telling open jobs that webhooks are down failed');
      },
    );
  } catch (err) {
    lastToldJobs.delete(key);
    deps.logger.debug({ err }, 'no Temporal client to tell open jobs that webhooks are down');
  }
}

function requestSubscriptionCheck(deps: ActivityDeps, connection: string): void {
  const now = Date.now();
  if (now - (lastCheckRequest.get(connection) ?? 0) < CHECK_REQUEST_EVERY_MS) return;
  lastCheckRequest.set(connection, now);
  try {
    const handle = Context.current().client.workflow.getHandle(subscriptionWorkflowId(connection));
    handle.signal(subscriptionCheckSignal).catch((err: unknown) => {
      deps.logger.warn({ err }, 'asking the subscription keeper to check now failed');
    });
  } catch (err) {
    // No client in this context (a test's mock environment): health itself is still right.
    deps.logger.debug({ err }, 'no Temporal client to ask for a subscription check');
  }
}
