import type { Client } from '@temporalio/client';
import { connectionRestoredSignal } from '../contracts/workflow-messages';
import type { Db } from '../db/schema';
import { signalOpenJobs } from './signal-open-jobs';

/**
 * Tells every unfinished job of a connection that it works again (the tenant reconnected, e.g. the
 * PKCE callback): jobs waiting with status `WaitingForConnection` continue at once instead of at
 * their next periodic check. Jobs that are not waiting ignore the signal. Returns how many were told.
 */
export async function notifyConnectionRestored(
  client: Client,
  db: Db,
  connectionId: string,
): Promise<number> {
  return signalOpenJobs(client, db, connectionId, connectionRestoredSignal, { connectionId });
}
