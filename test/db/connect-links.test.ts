import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import {
  consumeConnectLink,
  consumeConnectState,
  createConnectState,
  DisabledTenantError,
  issueConnectLink,
  pruneConnectLinks,
  sha256Hex,
  UnknownTenantError,
} from '../../src/db/connect-links';
import { createTenant, disableTenant } from '../../src/db/tenants';
import { testDatabase } from '../support/database';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

const newTenant = async (): Promise<string> => {
  const id = `t-${randomUUID().slice(0, 8)}`;
  await createTenant(database.db, { id, name: `Tenant ${id}` });
  return id;
};

describe('connect links', () => {
  it('issues a link under the public URL whose token is stored only as a hash, usable once', async () => {
    const tenant = await newTenant();
    const url = new URL(await issueConnectLink(database.db, tenant, 'https://fax.example.com/'));
    expect(`${url.origin}${url.pathname}`).toBe('https://fax.example.com/connect/ringcentral');
    expect(url.searchParams.get('tenant')).toBe(tenant);
    const token = url.searchParams.get('token') ?? '';
    expect(token.length).toBeGreaterThanOrEqual(43);
    const rows = await database.db
      .selectFrom('connect_links')
      .selectAll()
      .where('tenant_id', '=', tenant)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toBe(sha256Hex(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]!.expires_at.getTime() - rows[0]!.created_at.getTime()).toBe(15 * 60_000);

    expect(await consumeConnectLink(database.db, 'default', token)).toEqual({ ok: false, why: 'unknown' });
    expect((await consumeConnectLink(database.db, tenant, token)).ok).toBe(true);
    expect(await consumeConnectLink(database.db, tenant, token)).toEqual({ ok: false, why: 'used' });
    expect(await consumeConnectLink(database.db, tenant, 'nope')).toEqual({ ok: false, why: 'unknown' });
  });

  it('an expired link is refused as expired; two concurrent uses: exactly one wins', async () => {
    const tenant = await newTenant();
    const old = new Date(Date.now() - 16 * 60_000);
    const expired = new URL(await issueConnectLink(database.db, tenant, 'http://x', { now: old }));
    const r = await consumeConnectLink(database.db, tenant, expired.searchParams.get('token') ?? '');
    expect(r).toMatchObject({ ok: false, why: 'expired' });

    const fresh = new URL(await issueConnectLink(database.db, tenant, 'http://x'));
    const token = fresh.searchParams.get('token') ?? '';
    const both = await Promise.all([
      consumeConnectLink(database.db, tenant, token),
      consumeConnectLink(database.db, tenant, token),
    ]);
    expect(both.filter((b) => b.ok)).toHaveLength(1);
  });

  it('refuses unknown and disabled tenants with a clear error', async () => {
    await expect(issueConnectLink(database.db, 'no-such-tenant', 'http://x')).rejects.toBeInstanceOf(
      UnknownTenantError,
    );
    const tenant = await newTenant();
    await disableTenant(database.db, tenant);
    await expect(issueConnectLink(database.db, tenant, 'http://x')).rejects.toThrow(DisabledTenantError);
  });

  it('authorization states: stored hashed, single use, expiring; pruned after expiry', async () => {
    const tenant = await newTenant();
    const stateId = randomUUID();
    await createConnectState(database.db, {
      stateId,
      tenantId: tenant,
      linkId: null,
      codeVerifierEnc: 'v1:ciphertext',
      redirectUri: 'http://x/connect/ringcentral/callback',
    });
    const row = await database.db
      .selectFrom('connect_states')
      .selectAll()
      .where('tenant_id', '=', tenant)
      .execute();
    expect(JSON.stringify(row)).not.toContain(stateId);
    const first = await consumeConnectState(database.db, stateId);
    expect(first).toMatchObject({
      ok: true,
      state: { tenant_id: tenant, code_verifier_enc: 'v1:ciphertext' },
    });
    expect(await consumeConnectState(database.db, stateId)).toEqual({
      ok: false,
      why: 'used',
      tenantId: tenant,
    });
    expect(await consumeConnectState(database.db, 'other')).toEqual({ ok: false, why: 'unknown' });

    const late = randomUUID();
    await createConnectState(database.db, {
      stateId: late,
      tenantId: tenant,
      linkId: null,
      codeVerifierEnc: 'x',
      redirectUri: 'http://x/cb',
      now: new Date(Date.now() - 20 * 60_000),
    });
    expect(await consumeConnectState(database.db, late)).toMatchObject({ ok: false, why: 'expired' });
    expect(await pruneConnectLinks(database.db, new Date())).toBeGreaterThanOrEqual(1);
    expect(await consumeConnectState(database.db, late)).toEqual({ ok: false, why: 'unknown' });
  });
});
