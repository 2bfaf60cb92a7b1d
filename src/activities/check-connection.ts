import { ConnectionUnavailableError } from '../ringcentral/connections';
import type { ActivityDeps } from './deps';

export interface CheckConnectionArgs {
  connectionId: string;
}

export interface CheckConnectionResult {
  active: boolean;
  /** Why not, in one sentence without secrets. */
  reason?: string;
}

/**
 * Whether a connection can be used again (the tenant reconnected): the periodic re-check of a job
 * that waits with status `WaitingForConnection`. It asks the pool, which reads the connection store;
 * nothing is sent to RingCentral.
 */
export function createCheckConnection(deps: ActivityDeps) {
  return async function checkConnection(args: CheckConnectionArgs): Promise<CheckConnectionResult> {
    try {
      await deps.connections.forConnection(args.connectionId);
      return { active: true };
    } catch (err) {
      if (err instanceof ConnectionUnavailableError) return { active: false, reason: err.reason };
      throw err;
    }
  };
}
