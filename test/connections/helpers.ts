import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { createConnectionPool, type ConnectionPool } from '../../src/connections/connection-pool';
import { sealSecret } from '../../src/connections/connection-secret';
import { TokenCipher } from '../../src/connections/token-cipher';
import { ConnectionTokenStore } from '../../src/connections/token-store';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connection';
import { insertConnection } from '../../src/db/ringcentral-connections';
import { createTenant } from '../../src/db/tenants';
import { createLogger } from '../../src/logger';
import type { SimulatorHandle } from '../../src/simulator';

/** One key for the whole test file: every "process" of a fleet shares FAXFLOW_ENCRYPTION_KEY. */
export const testKey = { id: 'test', key: randomBytes(32) };
export const cipher = new TokenCipher([testKey]);

/** Everything logged by the test's "processes", to look for secrets in. */
export const logLines: string[] = [];
export const logger = createLogger(
  'debug',
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  }),
);

/** A worker process as far as connections go: its own database pool, token store and client pool. */
export interface FakeProcess {
  database: DatabaseHandle;
  tokens: ConnectionTokenStore;
  pool: ConnectionPool;
  close(): Promise<void>;
}

export function startProcess(sim: SimulatorHandle): FakeProcess {
  const database = connectPostgres(inject('databaseUrl'), { max: 4 });
  const tokens = new ConnectionTokenStore({
    db: database.db,
    cipher,
    appSecret: (_server, clientId) =>
      clientId === sim.credentials.clientId ? sim.credentials.clientSecret : undefined,
    logger,
  });
  const pool = createConnectionPool({
    db: database.db,
    tokens,
    budget: () => ({ limit: 10_000, windowMs: 1_000 }),
    maxSlotWaitMs: { Heavy: 0, Medium: 0, Light: 0 },
    logger,
  });
  return {
    database,
    tokens,
    pool,
    async close() {
      await pool.close();
      await database.close();
    },
  };
}

export async function newTenant(database: DatabaseHandle): Promise<string> {
  const id = `t-${randomUUID().slice(0, 8)}`;
  await createTenant(database.db, { id, name: `Tenant ${id}` });
  return id;
}

/** A JWT connection that has not logged in yet (as `ensureEnvironmentConnection` leaves one). */
export async function jwtConnectionWithoutTokens(
  database: DatabaseHandle,
  sim: SimulatorHandle,
  tenantId: string,
  jwt: string,
): Promise<string> {
  const id = randomBytes(8).toString('hex');
  const sealed = sealSecret(cipher, id, { jwt });
  await insertConnection(database.db, {
    id,
    tenantId,
    kind: 'jwt',
    serverUrl: sim.url,
    clientId: sim.credentials.clientId,
    accountId: null,
    extensionId: null,
    label: 'test',
    ciphertext: sealed.ciphertext,
    keyId: sealed.keyId,
    accessTokenExpiresAt: null,
    connectedAt: null,
  });
  return id;
}

export interface SimStats {
  callsByEndpoint: Record<string, number>;
  statusCodes: Record<string, number>;
  liveSessions: number;
}

export async function simStats(sim: SimulatorHandle): Promise<SimStats> {
  return (await (await fetch(`${sim.url}/_sim/stats`)).json()) as SimStats;
}

export const tokenCalls = async (sim: SimulatorHandle): Promise<number> =>
  (await simStats(sim)).callsByEndpoint['POST /restapi/oauth/token'] ?? 0;

export async function revokeUser(sim: SimulatorHandle, extensionId: string): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/users/${extensionId}/revoke`, { method: 'POST' });
  if (!res.ok) throw new Error(`revoke answered ${res.status}`);
}
