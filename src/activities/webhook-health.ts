import { webhooksHealthy } from '../db/webhook-health';
import type { ActivityDeps } from './deps';

const DEFAULT_WINDOW_MS = 10 * 60_000;

/** Whether this credential's status webhooks are flowing (see db/webhook-health.ts). */
export function healthy(deps: ActivityDeps): Promise<boolean> {
  return webhooksHealthy(deps.db, deps.credentialKey, deps.webhookHealthWindowMs ?? DEFAULT_WINDOW_MS);
}
