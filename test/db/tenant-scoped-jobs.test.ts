import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { listFaxAttempts } from '../../src/db/fax-attempts';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob, findFaxJobByKey } from '../../src/db/fax-jobs';
import { NoConnectionError, resolveJobConnection } from '../../src/db/job-connections';
import { migrateTo, migrateToLatest } from '../../src/db/migrate';
import { faxJobRow } from '../support/fax-job-row';
import { freshDatabases } from '../support/fresh-databases';

/** A database of our own on the test server: these tests need schemas the run's database is past. */
const databases = freshDatabases('t11');
const freshDatabase = () => databases.fresh();

describe('migration 2026-11-27T1020: tenant-scoped jobs', () => {
  it('moves old rows to their workflow ids, with their attempts and events, in the default tenant', async () => {
    const { db } = await freshDatabase();
    await migrateTo(db, '2026-11-27T1000_tenants');
    // Two jobs from before: one whose key looks like the other's workflow id (`x` and `fax-x`).
    for (const [key, tenant] of [
      ['x', null],
      ['fax-x', 'acme'],
    ] as const) {
      await sql`INSERT INTO fax_jobs (id, workflow_id, tenant_id, credential_key, recipient, documents, sha256,
        size_bytes, status) VALUES (${key}, ${`fax-${key}`}, ${tenant}, 'cred-1', '+12025550123', '[]',
        ${'a'.repeat(64)}, 1, 'Queued')`.execute(db);
      await sql`INSERT INTO fax_attempts (job_id, attempt_no, message_id, status, started_at)
        VALUES (${key}, 1, ${`m-${key}`}, 'Queued', now())`.execute(db);
      await sql`INSERT INTO fax_events (job_id, status, source) VALUES (${key}, 'Queued', 'send')`.execute(
        db,
      );
    }

    expect(await migrateToLatest(db)).toContain('2026-11-27T1020_tenant_scoped_jobs');

    expect(await findFaxJob(db, 'fax-x')).toMatchObject({
      job_key: 'x',
      workflow_id: 'fax-x',
      tenant_id: 'default',
      connection_id: 'cred-1',
    });
    expect(await findFaxJobByKey(db, 'acme', 'fax-x')).toMatchObject({
      id: 'fax-fax-x',
      connection_id: 'cred-1',
    });
    expect(await findFaxJob(db, 'x')).toBeUndefined();
    expect((await listFaxAttempts(db, 'fax-x')).map((a) => a.message_id)).toEqual(['m-x']);
    expect((await listFaxEvents(db, 'fax-fax-x')).map((e) => e.status)).toEqual(['Queued']);
  });

  it('lets two tenants hold the same key, but one tenant only once', async () => {
    const { db } = await freshDatabase();
    await migrateToLatest(db);
    const row = (id: string, tenant: string) => ({
      ...faxJobRow(id, { job_key: 'inv-1', tenant_id: tenant }),
      updated_at: new Date(),
    });
    await db.insertInto('fax_jobs').values(row('fax-acme-inv-1', 'acme')).execute();
    await db.insertInto('fax_jobs').values(row('fax-globex-inv-1', 'globex')).execute();
    await expect(db.insertInto('fax_jobs').values(row('fax-inv-1', 'acme')).execute()).rejects.toThrow(
      /fax_jobs_tenant_key_uq/,
    );
  });
});

describe("resolveJobConnection: which of a tenant's connections sends its job", () => {
  let db: DatabaseHandle['db'];
  beforeAll(async () => {
    db = (await freshDatabase()).db;
    // The columns of the connection store's table this reader uses (the store's own migration adds the rest).
    await sql`CREATE TABLE ringcentral_connections (id text PRIMARY KEY, tenant_id text NOT NULL,
      status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`.execute(db);
    await sql`INSERT INTO ringcentral_connections (id, tenant_id, status) VALUES
      ('c-acme', 'acme', 'active'),
      ('c-two-1', 'two', 'active'), ('c-two-2', 'two', 'active'),
      ('c-dead', 'dead', 'needs-reconnect'),
      ('c-gone', 'gone', 'revoked')`.execute(db);
  });

  it("takes the tenant's only active connection, or the one asked for if it is the tenant's", async () => {
    expect(await resolveJobConnection(db, 'acme', undefined)).toBe('c-acme');
    expect(await resolveJobConnection(db, 'two', 'c-two-2')).toBe('c-two-2');
    await expect(resolveJobConnection(db, 'acme', 'c-two-1')).rejects.toThrow(/not one of tenant acme's/);
  });

  it('says exactly what is missing', async () => {
    await expect(resolveJobConnection(db, 'two', undefined)).rejects.toThrow(
      /has 2 active RingCentral connections; say which one/,
    );
    await expect(resolveJobConnection(db, 'nobody', undefined)).rejects.toBeInstanceOf(NoConnectionError);
    await expect(resolveJobConnection(db, 'gone', undefined)).rejects.toThrow(
      /has no RingCentral connection/,
    );
  });

  it("still picks a tenant's only connection while it needs reconnecting: its jobs wait for it", async () => {
    expect(await resolveJobConnection(db, 'dead', undefined)).toBe('c-dead');
  });

  it("gives the default tenant the environment's credential while it has no stored connection", async () => {
    expect(await resolveJobConnection(db, 'default', undefined, { defaultConnectionId: 'env-key' })).toBe(
      'env-key',
    );
    await expect(
      resolveJobConnection(db, 'acme', undefined, { defaultConnectionId: 'env-key' }),
    ).resolves.toBe('c-acme');
  });

  it('finds no connection (rather than failing) in a database without the connection store', async () => {
    const bare = (await freshDatabase()).db;
    expect(await resolveJobConnection(bare, 'default', undefined, { defaultConnectionId: 'env-key' })).toBe(
      'env-key',
    );
  });
});
