import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueConnectLink } from '../../src/db/connect-links';
import type { DatabaseHandle } from '../../src/db/connection';
import { disableTenant } from '../../src/db/tenants';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectDepsFromConfig, loadConnectSecret } from '../../src/api/plugins/connect-ringcentral';
import { loadConfig } from '../../src/config/config';
import { tempDir, testDatabase } from '../support/database';
import {
  completeConnectFlow,
  connectApp,
  FakeRegistry,
  type LogCapture,
  newTenant,
  pathOf,
} from './connect-helpers';

const PUBLIC = 'http://faxflow.test';

let database: DatabaseHandle;
let sim: SimulatorHandle;
let app: FastifyInstance;
let registry: FakeRegistry;
let logs: LogCapture;
let clockOffsetMs = 0;
const woken: Array<[string, boolean]> = [];

beforeAll(async () => {
  database = testDatabase();
  sim = await startSimulator({
    timeScale: 0.05,
    rateLimits: false,
    accounts: [{ name: 'Beta Corp', users: [{ jwt: 'beta-jwt', name: 'Bob <Beta>' }] }],
  });
  ({ app, registry, logs } = await connectApp({
    db: database.db,
    sim,
    publicUrl: PUBLIC,
    onConnected: (id, reconnected) => {
      woken.push([id, reconnected]);
    },
    now: () => new Date(Date.now() + clockOffsetMs),
  }));
});
afterAll(async () => {
  await app.close();
  await sim.close();
  await database.close();
});

/** Opens the link: the 302 to RingCentral's authorize URL. */
async function openLink(link: string): Promise<URL> {
  const r = await app.inject({ method: 'GET', url: pathOf(link) });
  expect(r.statusCode).toBe(302);
  return new URL(String(r.headers.location));
}

/** The simulator approves (auto, as the login_hint's user) and sends the browser to our callback. */
async function approve(authorize: URL, loginHint = 'beta-jwt'): Promise<URL> {
  authorize.searchParams.set('login_hint', loginHint);
  const r = await fetch(authorize, { redirect: 'manual' });
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location') ?? '');
}

const callback = (url: URL | string) =>
  app.inject({ method: 'GET', url: typeof url === 'string' ? url : pathOf(url.toString()) });

describe('GET /connect/ringcentral and its callback', () => {
  let tenant: string;
  let firstCallback: URL;

  beforeAll(async () => {
    tenant = await newTenant(database.db, 'Acme & Sons');
  });

  it('happy path: link, S256 challenge, signed state, code exchange, extension lookup, saved, woken', async () => {
    const link = await issueConnectLink(database.db, tenant, PUBLIC);
    const token = new URL(link).searchParams.get('token') ?? '';
    const authorize = await openLink(link);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${sim.url}/restapi/oauth/authorize`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: sim.credentials.clientId,
      redirect_uri: `${PUBLIC}/connect/ringcentral/callback`,
      code_challenge_method: 'S256',
    });
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const state = authorize.searchParams.get('state') ?? '';
    expect(state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

    firstCallback = await approve(authorize);
    expect(`${firstCallback.origin}${firstCallback.pathname}`).toBe(`${PUBLIC}/connect/ringcentral/callback`);
    const code = firstCallback.searchParams.get('code') ?? '';
    const r = await callback(firstCallback);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toContain('Connected Bob &lt;Beta&gt; (extension 101) to Acme &amp; Sons.');

    const saved = registry.saved.at(-1);
    expect(saved).toMatchObject({
      tenantId: tenant,
      kind: 'pkce',
      serverUrl: sim.url,
      clientId: sim.credentials.clientId,
      accountId: '400100002',
      extensionId: '400200002',
      label: 'Bob <Beta>',
    });
    expect(saved!.tokens.accessTokenExpiresAt).toBeGreaterThan(Date.now());
    expect(saved!.tokens.refreshTokenExpiresAt).toBeGreaterThan(saved!.tokens.accessTokenExpiresAt);
    // the tokens work, as that user
    const me = await fetch(`${sim.url}/restapi/v1.0/account/~/extension/~`, {
      headers: { Authorization: `Bearer ${saved!.tokens.accessToken}` },
    });
    expect(((await me.json()) as { name: string }).name).toBe('Bob <Beta>');
    expect(woken.at(-1)).toEqual([expect.stringMatching(/^conn-/), false]);

    // nothing secret in the page or the logs
    for (const secret of [token, code, state, saved!.tokens.accessToken, saved!.tokens.refreshToken]) {
      expect(r.body).not.toContain(secret);
      expect(logs.text).not.toContain(secret);
    }
    expect(logs.text).toContain('RingCentral connection saved');
    // nor the verifier: only its encrypted form is stored
    const row = await database.db
      .selectFrom('connect_states')
      .select('code_verifier_enc')
      .where('tenant_id', '=', tenant)
      .executeTakeFirstOrThrow();
    expect(row.code_verifier_enc).toMatch(/^v1\./);
    expect(logs.text).not.toContain(row.code_verifier_enc);
  });

  it('connecting the same user again is a reconnect: same id, "Reconnected"', async () => {
    const first = woken.at(-1)?.[0];
    const link = await issueConnectLink(database.db, tenant, PUBLIC);
    const r = await callback(await approve(await openLink(link)));
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('<h1 id="title">Reconnected</h1>');
    expect(woken.at(-1)).toEqual([first, true]);
  });

  it('the same callback again: state already used (409), nothing saved', async () => {
    const before = registry.saved.length;
    const r = await callback(firstCallback);
    expect(r.statusCode).toBe(409);
    expect(r.body).toContain('already used');
    expect(registry.saved.length).toBe(before);
  });

  it('a code used before, with a fresh state: RingCentral refuses it (invalid_grant), said plainly', async () => {
    const link = await issueConnectLink(database.db, tenant, PUBLIC);
    const fresh = await approve(await openLink(link));
    const reused = new URL(fresh);
    reused.searchParams.set('code', firstCallback.searchParams.get('code') ?? '');
    const r = await callback(reused);
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('Code refused');
    expect(r.body).toContain('invalid_grant OAU-211');
    expect(r.body).toContain('reused, expired or is invalid');
  });

  it('an invented code is refused the same way', async () => {
    const link = await issueConnectLink(database.db, tenant, PUBLIC);
    const fresh = await approve(await openLink(link));
    fresh.searchParams.set('code', 'Cnot-a-real-code');
    const r = await callback(fresh);
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('RingCentral refused the authorization code');
  });

  it('denied on RingCentral (error=access_denied): 403, nothing saved', async () => {
    const before = registry.saved.length;
    const authorize = await openLink(await issueConnectLink(database.db, tenant, PUBLIC));
    const state = authorize.searchParams.get('state') ?? '';
    const r = await callback(
      `/connect/ringcentral/callback?error=access_denied&error_description=x&state=${encodeURIComponent(state)}`,
    );
    expect(r.statusCode).toBe(403);
    expect(r.body).toContain('Access denied');
    expect(r.body).toContain('no RingCentral user was connected to Acme &amp; Sons');
    expect(registry.saved.length).toBe(before);
  });

  it('expired link (410), link already used (410), unknown token (404), wrong tenant for the token (404)', async () => {
    const old = await issueConnectLink(database.db, tenant, PUBLIC, {
      now: new Date(Date.now() - 16 * 60_000),
    });
    const expired = await app.inject({ method: 'GET', url: pathOf(old) });
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('Link expired');
    expect(expired.body).toContain('links work for 15 minutes');

    const link = await issueConnectLink(database.db, tenant, PUBLIC);
    await openLink(link);
    const again = await app.inject({ method: 'GET', url: pathOf(link) });
    expect(again.statusCode).toBe(410);
    expect(again.body).toContain('Link already used');

    const unknown = await app.inject({
      method: 'GET',
      url: `/connect/ringcentral?tenant=${tenant}&token=nope`,
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('its token is unknown');

    const other = await newTenant(database.db, 'Other');
    const fresh = new URL(await issueConnectLink(database.db, tenant, PUBLIC));
    fresh.searchParams.set('tenant', other);
    const wrongTenant = await app.inject({ method: 'GET', url: pathOf(fresh.toString()) });
    expect(wrongTenant.statusCode).toBe(404);
    // ... and the real tenant's link still works afterwards
    fresh.searchParams.set('tenant', tenant);
    expect((await app.inject({ method: 'GET', url: pathOf(fresh.toString()) })).statusCode).toBe(302);
  });

  it('unknown tenant (404, escaped), disabled tenant (403), incomplete link (400)', async () => {
    const r = await app.inject({ method: 'GET', url: '/connect/ringcentral?tenant=%3Cscript%3E&token=abc' });
    expect(r.statusCode).toBe(404);
    expect(r.body).toContain('faxflow has no tenant &quot;&lt;script&gt;&quot;.');
    expect(r.body).not.toContain('<script>');

    const disabled = await newTenant(database.db, 'Gone');
    const link = await issueConnectLink(database.db, disabled, PUBLIC);
    await disableTenant(database.db, disabled);
    expect((await app.inject({ method: 'GET', url: pathOf(link) })).statusCode).toBe(403);

    const missing = await app.inject({ method: 'GET', url: '/connect/ringcentral?tenant=x' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('lacks the token');
  });

  it('state tampered, not ours, or missing: 400 state mismatch; the real state then still works', async () => {
    const authorize = await openLink(await issueConnectLink(database.db, tenant, PUBLIC));
    const back = await approve(authorize);
    const state = back.searchParams.get('state') ?? '';
    // every other last character, those that decode to the same bytes (spare bits) included
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = [...alphabet].filter((c) => !state.endsWith(c)).map((c) => `${state.slice(0, -1)}${c}`);
    for (const bad of [...respelled, `${'x'.repeat(32)}.${'y'.repeat(43)}`, 'garbage', `${state}x`]) {
      const u = new URL(back);
      u.searchParams.set('state', bad);
      const r = await callback(u);
      expect(r.statusCode).toBe(400);
      expect(r.body).toContain('State mismatch');
    }
    const u = new URL(back);
    u.searchParams.delete('state');
    const none = await callback(u);
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('State missing');
    expect((await callback(back)).statusCode).toBe(200);
  });

  it('a state older than 15 minutes: 410 authorization expired', async () => {
    const authorize = await openLink(await issueConnectLink(database.db, tenant, PUBLIC));
    const back = await approve(authorize);
    clockOffsetMs = 16 * 60_000;
    try {
      const r = await callback(back);
      expect(r.statusCode).toBe(410);
      expect(r.body).toContain('Authorization expired');
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('the registry fails: 500 "could not store", nothing woken', async () => {
    const wokenBefore = woken.length;
    registry.failWith = new Error('database is down');
    try {
      const r = await callback(
        await approve(await openLink(await issueConnectLink(database.db, tenant, PUBLIC))),
      );
      expect(r.statusCode).toBe(500);
      expect(r.body).toContain('could not store the connection');
      expect(woken.length).toBe(wokenBefore);
    } finally {
      registry.failWith = undefined;
    }
  });

  it('RingCentral unreachable: 502 said plainly', async () => {
    const down = await connectApp({
      db: database.db,
      sim,
      publicUrl: PUBLIC,
      serverUrl: 'http://127.0.0.1:9',
    });
    try {
      const r1 = await down.app.inject({
        method: 'GET',
        url: pathOf(await issueConnectLink(database.db, tenant, PUBLIC)),
      });
      const state = new URL(String(r1.headers.location)).searchParams.get('state') ?? '';
      const r = await down.app.inject({
        method: 'GET',
        url: `/connect/ringcentral/callback?code=abc&state=${encodeURIComponent(state)}`,
      });
      expect(r.statusCode).toBe(502);
      expect(r.body).toContain('RingCentral (token endpoint) could not be reached');
    } finally {
      await down.app.close();
    }
  });

  it('without the connect deps the routes are not served', async () => {
    const { buildApp } = await import('../../src/api/app');
    const { FakeFaxClient } = await import('./helpers');
    const plain = await buildApp({
      db: database.db,
      faxClient: new FakeFaxClient(),
      onNotification: async () => undefined,
    });
    try {
      expect(
        (await plain.inject({ method: 'GET', url: '/connect/ringcentral?tenant=a&token=b' })).statusCode,
      ).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('completeConnectFlow (for integration tests)', () => {
  it('connects over real HTTP; after a revoke in the simulator, connecting again is a reconnect', async () => {
    const { freePort } = await import('../../src/stack/free-port');
    const port = await freePort();
    const served = await connectApp({ db: database.db, sim, publicUrl: `http://127.0.0.1:${port}` });
    await served.app.listen({ host: '127.0.0.1', port });
    try {
      const tenant = await newTenant(database.db, 'Delta');
      const link = () => issueConnectLink(database.db, tenant, `http://127.0.0.1:${port}`);
      const first = await completeConnectFlow(await link(), 'beta-jwt');
      expect(first.status).toBe(200);
      expect(first.body).toContain('Connected Bob &lt;Beta&gt; (extension 101) to Delta.');
      const old = served.registry.saved[0]!.tokens.accessToken;
      const ext = served.registry.saved[0]!.extensionId;
      await fetch(`${sim.url}/_sim/users/${ext}/revoke`, { method: 'POST' });
      const me = (token: string) =>
        fetch(`${sim.url}/restapi/v1.0/account/~/extension/~`, {
          headers: { Authorization: `Bearer ${token}` },
        });
      expect((await me(old)).status).toBe(401);
      const again = await completeConnectFlow(await link(), ext);
      expect(again.body).toContain('<h1 id="title">Reconnected</h1>');
      expect((await me(served.registry.saved[1]!.tokens.accessToken)).status).toBe(200);
    } finally {
      await served.app.close();
    }
  });
});

describe('loadConnectSecret', () => {
  it('creates 32 random bytes in the data folder (mode 0600) once, then reads the same bytes', async () => {
    const dir = path.join(await tempDir(), 'data');
    const first = loadConnectSecret(dir);
    expect(first.length).toBe(32);
    expect(statSync(path.join(dir, 'connect-secret')).mode & 0o777).toBe(0o600);
    expect(loadConnectSecret(dir).equals(first)).toBe(true);
    writeFileSync(path.join(dir, 'connect-secret'), 'too short\n');
    expect(() => loadConnectSecret(dir)).toThrow(/at least 64 hex digits/);
  });
});

describe('connectDepsFromConfig', () => {
  it('takes the RingCentral app and public URL from the configuration, else the given fallbacks', async () => {
    const dataDir = await tempDir();
    const registry = new FakeRegistry();
    const configured = loadConfig({
      FAXFLOW_DATA_DIR: dataDir,
      RINGCENTRAL_CLIENT_ID: 'cid',
      RINGCENTRAL_CLIENT_SECRET: 'csecret',
      RINGCENTRAL_JWT: 'jwt',
      FAXFLOW_PUBLIC_URL: 'https://fax.example.com/',
    });
    const deps = connectDepsFromConfig(configured, { registry, localUrl: 'http://127.0.0.1:8080' });
    expect(deps).toMatchObject({
      ringcentral: {
        serverUrl: 'https://platform.ringcentral.com',
        clientId: 'cid',
        clientSecret: 'csecret',
      },
      publicUrl: 'https://fax.example.com',
    });
    expect(deps?.secret.equals(loadConnectSecret(dataDir))).toBe(true);

    const bare = loadConfig({ FAXFLOW_DATA_DIR: dataDir });
    expect(connectDepsFromConfig(bare, { registry, localUrl: 'http://127.0.0.1:8080' })).toBeUndefined();
    const sim = {
      serverUrl: 'http://127.0.0.1:8787',
      clientId: 'sim-client-id',
      clientSecret: 'sim-client-secret',
    };
    expect(
      connectDepsFromConfig(bare, { registry, localUrl: 'http://127.0.0.1:8080', app: sim }),
    ).toMatchObject({
      ringcentral: sim,
      publicUrl: 'http://127.0.0.1:8080',
    });
  });
});
