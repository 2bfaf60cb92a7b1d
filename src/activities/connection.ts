import type { RingCentralClient } from '../ringcentral/types';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

/** What an activity that acts for one RingCentral connection takes in its args. */
export interface ConnectionArgs {
  /**
   * The job's connection (ringcentral/connections.ts). Absent in tasks of runs from before
   * connections: they act for the worker's own credential (`deps.ringcentral`).
   */
  connectionId?: string;
}

/**
 * The key of what is per connection: rate budgets, subscription, reconciler, whether the account
 * reports delivery, webhook health, the send lease's number lock. The worker's own credential's key
 * is its connection's id, so jobs from before connections keep using the same names.
 */
export function connectionKey(deps: Pick<ActivityDeps, 'credentialKey'>, connectionId?: string): string {
  return connectionId ?? deps.credentialKey;
}

/**
 * The RingCentral client for a connection, from the worker's pool (built on demand, bounded). A
 * connection that needs reconnecting fails the activity with a non-retryable `ConnectionUnavailable`
 * (see failures.ts): retrying cannot help until the tenant reconnects, and the workflow waits for that.
 */
export async function ringCentralFor(
  deps: Pick<ActivityDeps, 'credentialKey' | 'ringcentral' | 'connections'>,
  connectionId?: string,
): Promise<RingCentralClient> {
  if (connectionId === undefined) return deps.ringcentral;
  try {
    return await deps.connections.forConnection(connectionId);
  } catch (err) {
    throw toApplicationFailure(err);
  }
}
