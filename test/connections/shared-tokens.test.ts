import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret } from '../../src/connections/connection-secret';
import { exchangeAuthorizationCode, fetchIdentity } from '../../src/ringcentral/oauth-client';
import { saveConnection } from '../../src/connections/registry';
import { findConnection } from '../../src/db/ringcentral-connections';
import { ConnectionUnavailableError } from '../../src/ringcentral/connections';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import {
  cipher,
  jwtConnectionWithoutTokens,
  newTenant,
  revokeUser,
  simStats,
  startProcess,
  tokenCalls,
  type FakeProcess,
} from './helpers';

/** Users of their own per test, so that sessions and revocations do not cross. */
const USERS = ['fleet', 'proactive', 'revoked', 'refused-check'].map((name) => ({
  jwt: `jwt-${name}-${Math.random().toString(36).slice(2)}`,
  name,
}));
const extensionOf = (name: string) => String(400200001 + 1 + USERS.findIndex((u) => u.name === name));
const jwtOf = (name: string) => USERS.find((u) => u.name === name)!.jwt;

let sim: SimulatorHandle;

/** The Authorization Code + PKCE flow against the simulator's authorize page (auto-approved as `extension`). */
async function connectWithPkce(extension: string) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = 'http://127.0.0.1:1/connect/ringcentral/callback';
  const authorize = new URL(`${sim.url}/restapi/oauth/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: sim.credentials.clientId,
    redirect_uri: redirectUri,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: extension,
  }))
    authorize.searchParams.set(k, v);
  const res = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(res.headers.get('location') ?? '').searchParams.get('code');
  if (!code) throw new Error(`authorize answered ${res.status} without a code`);
  return exchangeAuthorizationCode(
    { serverUrl: sim.url, ...sim.credentials },
    { code, redirectUri, codeVerifier: verifier },
  );
}
let processes: FakeProcess[];
const list = (p: FakeProcess, id: string) =>
  p.pool.forConnection(id).then((c) => c.listOutboundFaxes({ dateFrom: new Date(Date.now() - 3_600_000) }));

beforeAll(async () => {
  // RingCentral's Auth budget (5 a minute) is not what these tests are about.
  sim = await startSimulator({ extraUsers: USERS, rateLimits: false });
  processes = [startProcess(sim), startProcess(sim), startProcess(sim)];
});
afterAll(async () => {
  for (const p of processes ?? []) await p.close();
  await sim?.close();
});

describe('a connection token set shared by every process', () => {
  it('a JWT connection logs in once for the whole fleet, not once per process', async () => {
    const [a] = processes as [FakeProcess];
    const tenant = await newTenant(a.database);
    const id = await jwtConnectionWithoutTokens(a.database, sim, tenant, jwtOf('fleet'));
    const before = await simStats(sim);
    // Three processes, four calls each, all at once, on a connection that never logged in.
    const results = await Promise.all(processes.flatMap((p) => [1, 2, 3, 4].map(() => list(p, id))));
    expect(results).toHaveLength(12);
    const after = await simStats(sim);
    expect(
      (after.callsByEndpoint['POST /restapi/oauth/token'] ?? 0) -
        (before.callsByEndpoint['POST /restapi/oauth/token'] ?? 0),
    ).toBe(1);
    expect(after.liveSessions - before.liveSessions).toBe(1);
    const row = await findConnection(a.database.db, id);
    expect(row).toMatchObject({ status: 'active', token_version: 2, extension_id: extensionOf('fleet') });
    expect(row?.label).toContain('fleet');
  });

  it('an access token about to expire is refreshed by exactly one process; the others use its token', async () => {
    const [a, b] = processes as [FakeProcess, FakeProcess];
    const tenant = await newTenant(a.database);
    const id = await jwtConnectionWithoutTokens(a.database, sim, tenant, jwtOf('proactive'));
    await list(a, id);
    const v1 = (await findConnection(a.database.db, id))!;
    const oldTokens = openSecret(cipher, v1).tokens!;
    // Every process now sees the stored token as expired.
    await a.database.db
      .updateTable('ringcentral_connections')
      .set({ access_token_expires_at: new Date(Date.now() - 1_000) })
      .where('id', '=', id)
      .execute();
    const before = await tokenCalls(sim);
    const results = await Promise.all([a, b, a, b, a, b].map((p) => list(p, id)));
    expect(results).toHaveLength(6);
    expect((await tokenCalls(sim)) - before).toBe(1);
    const v2 = (await findConnection(a.database.db, id))!;
    expect(v2.token_version).toBe(v1.token_version + 1);
    const newTokens = openSecret(cipher, v2).tokens!;
    expect(newTokens.refreshToken).not.toBe(oldTokens.refreshToken);
    expect(v2.access_token_expires_at!.getTime()).toBeGreaterThan(Date.now() + 60_000);
  });

  it('a revoked user marks the connection needs-reconnect once; nothing retries in a loop; a reconnect revives it', async () => {
    const [a, b] = processes as [FakeProcess, FakeProcess];
    const tenant = await newTenant(a.database);
    // As the PKCE connect page would store it: a token set from an authorization code, no JWT.
    const app = { serverUrl: sim.url, ...sim.credentials };
    const tokens = await connectWithPkce(extensionOf('revoked'));
    const identity = await fetchIdentity(app, tokens.accessToken);
    const connection = {
      tenantId: tenant,
      kind: 'pkce' as const,
      serverUrl: sim.url,
      clientId: sim.credentials.clientId,
      ...identity,
      tokens,
    };
    const { id, reconnected } = await saveConnection({ db: a.database.db, cipher }, connection);
    expect(reconnected).toBe(false);
    await list(a, id);
    await revokeUser(sim, extensionOf('revoked'));

    const before = await simStats(sim);
    const errors = await Promise.all([a, b, a, b].map((p) => list(p, id).catch((e: unknown) => e)));
    for (const err of errors) {
      expect(err).toBeInstanceOf(ConnectionUnavailableError);
      expect(err).toMatchObject({ connectionId: id, status: 'needs-reconnect' });
    }
    const row = (await findConnection(a.database.db, id))!;
    expect(row.status).toBe('needs-reconnect');
    expect(row.status_reason).toMatch(/RingCentral refused the refresh token: OAU-211/);
    // Later calls are refused before anything reaches RingCentral.
    await expect(a.pool.forConnection(id)).rejects.toBeInstanceOf(ConnectionUnavailableError);
    await expect(list(b, id)).rejects.toThrow(/needs-reconnect: RingCentral refused the refresh token/);
    const after = await simStats(sim);
    const delta = (k: string) => (after.callsByEndpoint[k] ?? 0) - (before.callsByEndpoint[k] ?? 0);
    // At most one 401 per process that had a client (a and b), one refresh for all of them.
    expect(delta('POST /restapi/oauth/token')).toBe(1);
    expect(delta('GET /restapi/v1.0/account/~/extension/~/message-store')).toBeLessThanOrEqual(4);

    // The tenant connects the same user again: same id, active, new tokens.
    const again = await connectWithPkce(extensionOf('revoked'));
    const saved = await saveConnection({ db: a.database.db, cipher }, { ...connection, tokens: again });
    expect(saved).toEqual({ id, reconnected: true });
    await expect(list(b, id)).resolves.toBeInstanceOf(Array);
    expect(await findConnection(a.database.db, id)).toMatchObject({
      status: 'active',
      status_reason: null,
      token_version: row.token_version + 1,
    });
  });

  it('a JWT that RingCentral refuses marks the connection needs-reconnect with the reason', async () => {
    const [a] = processes as [FakeProcess];
    const tenant = await newTenant(a.database);
    const id = await jwtConnectionWithoutTokens(a.database, sim, tenant, 'not-a-known-jwt-assertion');
    const before = await tokenCalls(sim);
    await expect(list(a, id)).rejects.toBeInstanceOf(ConnectionUnavailableError);
    await expect(list(a, id)).rejects.toBeInstanceOf(ConnectionUnavailableError);
    expect((await tokenCalls(sim)) - before).toBe(1);
    expect(await findConnection(a.database.db, id)).toMatchObject({
      status: 'needs-reconnect',
      status_reason: expect.stringMatching(/RingCentral refused the JWT login: OAU-140/) as unknown,
    });
  });

  it('a missing connection is unavailable, not an error to retry', async () => {
    const [a] = processes as [FakeProcess];
    await expect(a.pool.forConnection('no-such-connection')).rejects.toMatchObject({
      name: 'ConnectionUnavailableError',
      status: 'missing',
    });
  });
});

describe('a token endpoint that fails for a while', () => {
  it('fails the call with a retryable auth error and leaves the connection active', async () => {
    const { ConnectionTokenStore } = await import('../../src/connections/token-store');
    const { RingCentralAuthError } = await import('../../src/ringcentral/errors');
    const [a] = processes as [FakeProcess];
    const tenant = await newTenant(a.database);
    const id = await jwtConnectionWithoutTokens(a.database, sim, tenant, jwtOf('refused-check'));
    let failures = 1;
    const store = new ConnectionTokenStore({
      db: a.database.db,
      cipher,
      appSecret: () => sim.credentials.clientSecret,
      oauth: {
        jwtLogin: async (...args) => {
          if (failures-- > 0)
            throw new RingCentralAuthError('RingCentral JWT login failed: 503 CMN-211', 503, 'CMN-211', 5);
          const { jwtLogin } = await import('../../src/ringcentral/oauth-client');
          return jwtLogin(...args);
        },
      },
    });
    await expect(store.current(id)).rejects.toMatchObject({ name: 'RingCentralAuthError', status: 503 });
    expect(await findConnection(a.database.db, id)).toMatchObject({ status: 'active', token_version: 1 });
    await expect(store.current(id)).resolves.toMatchObject({ version: 2 });
  });
});

describe('the client pool', () => {
  it('keeps at most maxClients clients, dropping the least recently used', async () => {
    const { createConnectionPool } = await import('../../src/connections/connection-pool');
    const [a] = processes as [FakeProcess];
    const tenant = await newTenant(a.database);
    const ids = await Promise.all(
      ['x', 'y', 'z'].map((n) =>
        jwtConnectionWithoutTokens(a.database, sim, tenant, `unused-${n}-${Math.random()}`),
      ),
    );
    const pool = createConnectionPool({
      db: a.database.db,
      tokens: a.tokens,
      budget: () => ({ limit: 10, windowMs: 1000 }),
      maxSlotWaitMs: { Heavy: 0, Medium: 0, Light: 0 },
      maxClients: 2,
    });
    const [x, y, z] = ids as [string, string, string];
    const first = await pool.forConnection(x);
    await pool.forConnection(y);
    expect(await pool.forConnection(x)).toBe(first); // x is now the most recent
    await pool.forConnection(z); // drops y
    expect(pool.size()).toBe(2);
    expect(await pool.forConnection(x)).toBe(first);
    await pool.close();
    expect(pool.size()).toBe(0);
  });
});
