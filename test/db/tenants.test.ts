import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import {
  createTenant,
  DEFAULT_TENANT_ID,
  disableTenant,
  findTenant,
  listTenants,
  TENANT_ID_PATTERN,
} from '../../src/db/tenants';
import { testDatabase } from '../support/database';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('tenants', () => {
  it('has the default tenant after migrating', async () => {
    expect((await findTenant(database.db, DEFAULT_TENANT_ID))?.name).toBe('Default tenant');
  });

  it('creates a tenant once, lists it, and disables it once', async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    expect(
      await createTenant(database.db, { id, name: 'Clinic', defaultCover: { confidential: true } }),
    ).toBe(true);
    expect(await createTenant(database.db, { id, name: 'Other' })).toBe(false);
    const found = await findTenant(database.db, id);
    expect(found).toMatchObject({ name: 'Clinic', default_cover: { confidential: true }, disabled_at: null });
    expect((await listTenants(database.db)).map((t) => t.id)).toContain(id);
    expect(await disableTenant(database.db, id)).toBe(true);
    expect(await disableTenant(database.db, id)).toBe(false);
    expect((await findTenant(database.db, id))?.disabled_at).toBeInstanceOf(Date);
  });

  it('accepts short lower-case ids only', () => {
    expect(TENANT_ID_PATTERN.test('acme-clinic')).toBe(true);
    for (const bad of ['', 'Acme', 'a_b', 'a/b', '-a', 'a'.repeat(41)])
      expect(TENANT_ID_PATTERN.test(bad)).toBe(false);
  });
});
