import { ConnectionUnavailableError, type RingCentralConnectionPool } from './connections';
import type { RingCentralClient } from './types';

/**
 * The pool of a worker that holds one credential (the environment's): its connection id is the
 * credential key; any other connection is unknown here. The multi-tenant pool (src/connections)
 * replaces it in the composition root.
 */
export function singleConnectionPool(
  connectionId: string,
  client: RingCentralClient,
): RingCentralConnectionPool {
  return {
    async forConnection(id) {
      if (id === connectionId) return client;
      throw new ConnectionUnavailableError(
        id,
        'missing',
        `this worker holds only connection ${connectionId}; connection ${id} is unknown to it`,
      );
    },
    async close() {},
  };
}
