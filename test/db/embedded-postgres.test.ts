import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type DatabaseHandle } from '../../src/db/connection';
import { insertFaxJob, findFaxJob, updateFaxJobStatus } from '../../src/db/fax-jobs';
import { migrateToLatest } from '../../src/db/migrate';
import { admit } from '../../src/db/rate-limiter';
import { tempDir } from '../support/database';
import { faxJobRow } from '../support/fax-job-row';

/**
 * The embedded database a newcomer gets without DATABASE_URL: PGlite behind pglite-socket, driven
 * by the same pg driver, kysely dialect, migrations and repositories as a real server.
 */
let database: DatabaseHandle;
let dir: string;
beforeAll(async () => {
  dir = await tempDir('faxflow-pglite-');
  database = await startEmbeddedPostgres(dir);
}, 120_000);
afterAll(async () => {
  await database?.close();
});

describe('embedded Postgres', () => {
  it('runs every migration, once', async () => {
    const applied = await migrateToLatest(database.db);
    expect(applied[0]).toBe('2026-11-26T1200_initial');
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  it('serves the repositories, including the final-status guard', async () => {
    await insertFaxJob(database.db, faxJobRow('fax-embedded-1'));
    expect(await updateFaxJobStatus(database.db, 'fax-embedded-1', { status: 'Delivered' })).toBe(true);
    expect(await updateFaxJobStatus(database.db, 'fax-embedded-1', { status: 'Failed' })).toBe(false);
    expect(await findFaxJob(database.db, 'fax-embedded-1')).toMatchObject({ status: 'Delivered' });
  });

  it('keeps rate budgets (advisory locks work on PGlite too)', async () => {
    const budget = { limit: 2, windowMs: 60_000 };
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await admit(database.db, 'embedded-test', budget));
    expect(results.map((r) => r.admitted)).toEqual([true, true, false]);
  });
});
