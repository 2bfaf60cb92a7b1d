import { insertBroadcastCompletedEvent } from '../db/webhook-events';
import type { ActivityDeps } from './deps';

export interface RecordBroadcastCompletedArgs {
  broadcastId: string;
  tenantId: string | null;
  /** Every recipient's job id, in recipient order. */
  jobIds: string[];
}

/**
 * Raises `broadcast.completed` for upstream webhooks once every recipient's fax has ended (the
 * broadcast workflow's last step). Idempotent: one event per broadcast however often it runs. The
 * dispatcher renders the broadcast (src/events/dispatcher.ts) from the jobs named here.
 */
export function createRecordBroadcastCompleted({ db }: ActivityDeps) {
  return async function recordBroadcastCompleted(args: RecordBroadcastCompletedArgs): Promise<void> {
    await insertBroadcastCompletedEvent(db, {
      tenantId: args.tenantId ?? 'default',
      broadcastId: args.broadcastId,
      payload: { broadcastId: args.broadcastId, jobIds: args.jobIds },
    });
  };
}
