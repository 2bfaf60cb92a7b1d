import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, listApiKeys, revokeApiKey } from '../../../src/db/api-keys';
import type { DatabaseHandle } from '../../../src/db/connection';
import { disableTenant } from '../../../src/db/tenants';
import { runApiKeys } from '../../../src/cli/api-keys-command';
import { testDatabase } from '../../support/database';
import { auth, errorOf, makeV1App, tenantWithKey } from './helpers';

let database: DatabaseHandle;
let app: FastifyInstance;

beforeAll(async () => {
  database = testDatabase();
  ({ app } = await makeV1App(database.db, { rateLimit: { max: 5, timeWindowMs: 60_000 } }));
});
afterAll(async () => {
  await app.close();
  await database.close();
});

describe('API keys', () => {
  it('refuses /v1 routes without a key (401, WWW-Authenticate) and with a malformed, unknown or revoked one', async () => {
    const none = await app.inject({ method: 'GET', url: '/v1/faxes' });
    expect(none.statusCode).toBe(401);
    expect(errorOf(none).code).toBe('UNAUTHENTICATED');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);

    const malformed = await app.inject({
      method: 'GET',
      url: '/v1/faxes',
      headers: { authorization: 'Basic abc' },
    });
    expect([malformed.statusCode, errorOf(malformed).code]).toEqual([401, 'INVALID_API_KEY']);

    const unknown = await app.inject({
      method: 'GET',
      url: '/v1/faxes',
      headers: auth(`fxf_${'A'.repeat(43)}`),
    });
    expect([unknown.statusCode, errorOf(unknown).code]).toEqual([401, 'INVALID_API_KEY']);

    const { key, keyId } = await tenantWithKey(database.db);
    expect((await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(key) })).statusCode).toBe(200);
    expect(await revokeApiKey(database.db, keyId)).toBe(true);
    const revoked = await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(key) });
    expect([revoked.statusCode, errorOf(revoked).code]).toEqual([401, 'INVALID_API_KEY']);
  });

  it('stores only the hash, shows a prefix, and records the last use', async () => {
    const { tenantId, key, keyId } = await tenantWithKey(database.db);
    const row = await database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', keyId)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key);
    expect(key.startsWith(row.prefix)).toBe(true);
    expect(row.last_used_at).toBeNull();
    await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(key) });
    await expect
      .poll(async () => (await listApiKeys(database.db, tenantId))[0]?.last_used_at ?? null)
      .not.toBeNull();
  });

  it('refuses keys of a disabled tenant with 403', async () => {
    const { tenantId, key } = await tenantWithKey(database.db);
    await disableTenant(database.db, tenantId);
    const res = await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(key) });
    expect([res.statusCode, errorOf(res).code]).toEqual([403, 'TENANT_DISABLED']);
  });

  it('leaves /healthz, /health, /ready, /openapi.json, /docs and the RingCentral webhook open', async () => {
    for (const url of ['/healthz', '/health', '/openapi.json', '/docs']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBeLessThan(400);
    }
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).not.toBe(401);
    const webhook = await app.inject({
      method: 'POST',
      url: '/webhooks/ringcentral',
      headers: { 'validation-token': 'abc' },
    });
    expect(webhook.statusCode).toBe(200);
  });

  it('limits requests per key: 429 with Retry-After, other keys unaffected', async () => {
    const a = await tenantWithKey(database.db);
    const b = await tenantWithKey(database.db);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(a.key) })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(a.key) });
    expect(errorOf(limited).code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', url: '/v1/faxes', headers: auth(b.key) })).statusCode).toBe(
      200,
    );
  });
});

describe('extraRoutes (the lead adds other v1 plugins this way)', () => {
  it('registers them under /v1 inside the authenticated, rate-limited scope, with request.tenant set', async () => {
    const { app: withExtra } = await makeV1App(database.db, {
      extraRoutes: [
        async (scope) => {
          scope.get('/whoami', async (request) => ({
            tenant: request.tenant.id,
            key: request.tenant.apiKeyId,
          }));
        },
      ],
    });
    try {
      const anonymous = await withExtra.inject({ method: 'GET', url: '/v1/whoami' });
      expect([anonymous.statusCode, errorOf(anonymous).code]).toEqual([401, 'UNAUTHENTICATED']);
      const { tenantId, key, keyId } = await tenantWithKey(database.db);
      const res = await withExtra.inject({ method: 'GET', url: '/v1/whoami', headers: auth(key) });
      expect(res.json()).toEqual({ tenant: tenantId, key: keyId });
      expect(res.headers['x-ratelimit-limit']).toBeDefined();
    } finally {
      await withExtra.close();
    }
  });
});

describe('faxflow api-keys', () => {
  it('creates (printing the key once), lists and revokes', async () => {
    const { tenantId } = await tenantWithKey(database.db);
    const lines: string[] = [];
    expect(
      await runApiKeys(['create', '--tenant', tenantId, '--name', 'ehr'], (l) => lines.push(l), database.db),
    ).toBe(0);
    const key = lines.find((l) => l.startsWith('fxf_'));
    expect(key).toMatch(/^fxf_[A-Za-z0-9_-]{43}$/);
    const id = /API key (key_[0-9a-f]+)/.exec(lines[0]!)?.[1];
    expect(id).toBeDefined();

    const listed: string[] = [];
    await runApiKeys(['list', '--tenant', tenantId, '--json'], (l) => listed.push(l), database.db);
    const keys = JSON.parse(listed[0]!) as { id: string; name: string; revokedAt: string | null }[];
    expect(keys.map((k) => [k.name, k.revokedAt])).toContainEqual(['ehr', null]);
    expect(listed.join('\n')).not.toContain(key!);

    expect(await runApiKeys(['revoke', id!], () => undefined, database.db)).toBe(0);
    await expect(runApiKeys(['revoke', id!], () => undefined, database.db)).rejects.toThrow(
      /no active API key/,
    );
    await expect(
      runApiKeys(['create', '--tenant', 'no-such-tenant'], () => undefined, database.db),
    ).rejects.toThrow(/no tenant/);
  });

  it('keys of one tenant are not usable as another: creating one needs the tenant to exist', async () => {
    const created = await createApiKey(database.db, { tenantId: 'default', name: null });
    expect(created.tenantId).toBe('default');
  });
});
