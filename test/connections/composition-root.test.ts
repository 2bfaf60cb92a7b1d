import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { DEV_KEY_FILE, MissingEncryptionKeyError } from '../../src/connections/token-cipher';
import { findConnection } from '../../src/db/ringcentral-connections';
import { DEFAULT_TENANT_ID } from '../../src/db/tenants';
import { createLogger } from '../../src/logger';
import { credentialKey } from '../../src/ringcentral/credential-key';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { buildDependencies, type Dependencies } from '../../src/workers/dependencies';
import { tempDir } from '../support/database';
import { simStats } from './helpers';

/** The environment's credential through the production composition root, in two "processes". */
let sim: SimulatorHandle;
const built: Dependencies[] = [];
const lines: string[] = [];
const logger = createLogger(
  'info',
  new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  }),
);

beforeAll(async () => {
  sim = await startSimulator({ clientId: `root-${randomUUID()}`, rateLimits: false });
});
afterAll(async () => {
  for (const d of built) await d.close();
  await sim?.close();
});

describe('buildDependencies and connections', () => {
  it("makes the environment's JWT the default tenant's connection, logged in once for every process", async () => {
    const dataDir = await tempDir();
    const config = loadConfig({ DATABASE_URL: inject('databaseUrl'), FAXFLOW_DATA_DIR: dataDir });
    const target = { serverUrl: sim.url, ...sim.credentials };
    for (let i = 0; i < 3; i++) built.push(await buildDependencies(config, target, logger));
    const id = credentialKey(target);
    expect(built.map((d) => d.credentialKey)).toEqual([id, id, id]);
    // No key configured outside production: generated once into the data folder, and said so.
    const key = (await readFile(path.join(dataDir, DEV_KEY_FILE), 'utf8')).trim();
    const notices = lines.filter((l) => l.includes('generated a development encryption key'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).not.toContain(key.split(':')[1]);

    const before = await simStats(sim);
    await Promise.all(
      built.map((d) => d.ringcentral.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) })),
    );
    const client = await built[0]!.connections.forConnection(id);
    await client.getSubscription('none');
    const after = await simStats(sim);
    expect(
      (after.callsByEndpoint['POST /restapi/oauth/token'] ?? 0) -
        (before.callsByEndpoint['POST /restapi/oauth/token'] ?? 0),
    ).toBe(1);
    expect(after.liveSessions - before.liveSessions).toBe(1);
    expect(await findConnection(built[0]!.database.db, id)).toMatchObject({
      tenant_id: DEFAULT_TENANT_ID,
      kind: 'jwt',
      status: 'active',
      server_url: sim.url,
      account_id: expect.any(String) as unknown,
      extension_id: expect.any(String) as unknown,
    });
    expect(typeof built[0]!.connectionRegistry.saveConnection).toBe('function');
  });

  it("a connection the API process saves is usable by the workers' pool (same keys, same data folder)", async () => {
    const { connectionRegistryFromConfig } = await import('../../src/connections/registry');
    const { jwtLogin, fetchIdentity } = await import('../../src/ringcentral/oauth-client');
    const { createTenant } = await import('../../src/db/tenants');
    const dataDir = await tempDir();
    const config = loadConfig({ DATABASE_URL: inject('databaseUrl'), FAXFLOW_DATA_DIR: dataDir });
    const worker = await buildDependencies(config, { serverUrl: sim.url, ...sim.credentials }, logger);
    built.push(worker);
    const registry = await connectionRegistryFromConfig(config, worker.database.db);
    const tenant = `api-${randomUUID().slice(0, 8)}`;
    await createTenant(worker.database.db, { id: tenant, name: 'API tenant' });
    const app = { serverUrl: sim.url, ...sim.credentials };
    const tokens = await jwtLogin(app, sim.credentials.jwt);
    const saved = await registry.saveConnection({
      tenantId: tenant,
      kind: 'pkce',
      serverUrl: sim.url,
      clientId: sim.credentials.clientId,
      ...(await fetchIdentity(app, tokens.accessToken)),
      tokens,
    });
    const client = await worker.connections.forConnection(saved.id);
    await expect(client.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) })).resolves.toEqual([]);
  });

  it('refuses to start in production without FAXFLOW_ENCRYPTION_KEY', async () => {
    const config = loadConfig({
      DATABASE_URL: inject('databaseUrl'),
      NODE_ENV: 'production',
      FAXFLOW_DATA_DIR: await tempDir(),
    });
    const attempt = buildDependencies(config, { serverUrl: sim.url, ...sim.credentials }, logger);
    await expect(attempt).rejects.toBeInstanceOf(MissingEncryptionKeyError);
    await expect(attempt).rejects.toThrow(/FAXFLOW_ENCRYPTION_KEY is required in production/);
  });
});
