/**
 * One RingCentral client per connection, built on demand and kept in a bounded LRU: each reads its
 * tokens from the shared token store and takes every call's slot from its own rate budgets
 * (`ringcentral:<connectionId>:<group>`), so one tenant's burst never spends another's budget.
 */
import type { Kysely } from 'kysely';
import { admitSlot, penalize, type RateBudget } from '../db/rate-limiter';
import { findConnection } from '../db/ringcentral-connections';
import type { Database } from '../db/schema';
import { withAdmissionMetrics, withCallMetrics } from '../metrics/ringcentral-metrics';
import { ConnectionUnavailableError, type RingCentralConnectionPool } from '../ringcentral/connections';
import { withRateBudgets, type RateGroup } from '../ringcentral/rate-budgets';
import { createSdkRingCentralClient } from '../ringcentral/sdk-client';
import type { RingCentralClient } from '../ringcentral/types';
import type { ConnectionTokenStore } from './token-store';

export interface ConnectionPoolOptions {
  db: Kysely<Database>;
  tokens: ConnectionTokenStore;
  /** Each group's budget (calls per window), the same for every connection. */
  budget: (group: RateGroup) => RateBudget;
  /**
   * How far ahead a call may hold a reserved slot and wait for it; also, up to 5 s, how long after a
   * refusal it keeps asking in-process before failing with the budget's retry delay.
   */
  maxSlotWaitMs: Record<RateGroup, number>;
  /** Clients kept at most (least recently used dropped first). Default 200. */
  maxClients?: number;
  requestTimeoutMs?: number;
  logger?: { warn(obj: object, msg: string): void };
}

export interface ConnectionPool extends RingCentralConnectionPool {
  /** Clients held now (for tests and metrics). */
  size(): number;
}

/** The rate budget bucket of one connection's group: the key budgets had with one credential. */
export const budgetBucket = (connectionId: string, group: RateGroup): string =>
  `ringcentral:${connectionId}:${group}`;

/**
 * How long after a refusal a call keeps asking in-process: its group's slot wait, at most 5 s. The
 * cap keeps a read's worst case (20 s of patience, 20 s of slot wait, then its request) well inside
 * its activity's 1 min start-to-close; sends wait 5 s and have 3 min.
 */
const MAX_PATIENCE_MS = 5_000;
export function patienceFor(maxSlotWaitMs: Record<RateGroup, number>): Record<RateGroup, number> {
  return {
    Heavy: Math.min(MAX_PATIENCE_MS, maxSlotWaitMs.Heavy),
    Medium: Math.min(MAX_PATIENCE_MS, maxSlotWaitMs.Medium),
    Light: Math.min(MAX_PATIENCE_MS, maxSlotWaitMs.Light),
  };
}

export function createConnectionPool(opts: ConnectionPoolOptions): ConnectionPool {
  const maxClients = opts.maxClients ?? 200;
  const clients = new Map<string, RingCentralClient>();

  const build = (id: string, row: { server_url: string; client_id: string }): RingCentralClient => {
    const sdk = createSdkRingCentralClient({
      serverUrl: row.server_url,
      clientId: row.client_id,
      tokens: {
        current: () => opts.tokens.current(id),
        afterUnauthorized: (version) => opts.tokens.afterUnauthorized(id, version),
      },
      ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
      ...(opts.logger && { logger: opts.logger }),
    });
    // Metrics inside the budgets: calls and 429s that reached RingCentral; around the admission: waits.
    return withRateBudgets(
      withCallMetrics(sdk),
      withAdmissionMetrics((group) =>
        admitSlot(opts.db, budgetBucket(id, group), opts.budget(group), {
          maxWaitMs: opts.maxSlotWaitMs[group],
        }),
      ),
      {
        // A 429 closes the group's budget of this connection for every worker until Retry-After.
        penalize: (group, forMs) => penalize(opts.db, budgetBucket(id, group), opts.budget(group), forMs),
        // A slot just past the wait is asked for again in-process, not through a Temporal retry.
        patienceMs: patienceFor(opts.maxSlotWaitMs),
      },
    );
  };

  return {
    async forConnection(connectionId) {
      const row = await findConnection(opts.db, connectionId);
      if (!row)
        throw new ConnectionUnavailableError(connectionId, 'missing', 'no such RingCentral connection');
      if (row.status !== 'active') {
        throw new ConnectionUnavailableError(
          connectionId,
          row.status,
          row.status_reason ?? 'the tenant must reconnect',
        );
      }
      let client = clients.get(connectionId);
      if (client) {
        clients.delete(connectionId); // re-inserted below: most recently used last
      } else {
        client = build(connectionId, row);
      }
      clients.set(connectionId, client);
      while (clients.size > maxClients) {
        const [oldestId, oldest] = clients.entries().next().value as [string, RingCentralClient];
        clients.delete(oldestId);
        // Clients of shared token sets end no session: closing only drops them.
        await oldest.close().catch(() => undefined);
      }
      return client;
    },
    size: () => clients.size,
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((c) => c.close().catch(() => undefined)));
    },
  };
}
