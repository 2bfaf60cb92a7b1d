import type { Client } from '@temporalio/client';
import { webhooksDownSignal } from '../contracts/workflow-messages';
import type { Db } from '../db/schema';
import { signalOpenJobs } from './signal-open-jobs';

/**
 * Tells every unfinished job of a connection that its status webhooks stopped (the subscription
 * vanished, was suspended or blacklisted, or sent faxes went unannounced): a job waiting for a
 * status webhook polls at once instead of at its next rare poll (issue 8 #9d). Telling a job twice
 * costs at most one extra poll; jobs not waiting for a status only stop trusting webhooks.
 * Returns how many were told.
 */
export async function notifyWebhooksDown(
  client: Client,
  db: Db,
  connectionId: string,
  reason: string,
): Promise<number> {
  return signalOpenJobs(client, db, connectionId, webhooksDownSignal, { connectionId, reason });
}
