import { Context } from '@temporalio/activity';
import { subscriptionWorkflowId } from '../contracts/workflow-ids';
import { subscriptionCheckSignal } from '../contracts/workflow-messages';
import { webhookHealth, SILENT_REASON } from '../db/webhook-health';
import type { ActivityDeps } from './deps';

const DEFAULT_WINDOW_MS = 10 * 60_000;
/** At most one "check now" per credential and process this often: the check is a RingCentral GET. */
const CHECK_REQUEST_EVERY_MS = 60_000;
const lastCheckRequest = new Map<string, number>();

/**
 * Whether this credential's status webhooks are flowing (see db/webhook-health.ts). When a sent fax
 * went unannounced the subscription has likely vanished: the keeper is asked to look at once (a
 * GET that answers 404 recreates it) instead of at its next regular check.
 */
export async function healthy(deps: ActivityDeps, connection: string = deps.credentialKey): Promise<boolean> {
  const h = await webhookHealth(deps.db, connection, {
    withinMs: deps.webhookHealthWindowMs ?? DEFAULT_WINDOW_MS,
  });
  if (!h.healthy && h.reason === SILENT_REASON) requestSubscriptionCheck(deps, connection);
  return h.healthy;
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
