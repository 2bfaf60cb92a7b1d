import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, inject } from 'vitest';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connection';

/**
 * Databases of a test file's own on the test server, for tests that need a schema the run's shared
 * database is already past (a migration's before and after). Call at the top of the file: each
 * `fresh()` creates an empty database (no migrations); all are dropped after the file's tests.
 */
export function freshDatabases(prefix: string): { fresh(): Promise<DatabaseHandle> } {
  let admin: DatabaseHandle;
  const created: { name: string; handle: DatabaseHandle }[] = [];
  beforeAll(() => {
    admin = connectPostgres(inject('databaseUrl'), { max: 1 });
  });
  afterAll(async () => {
    for (const { name, handle } of created) {
      await handle.close();
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)}`.execute(admin.db);
    }
    await admin.close();
  });
  return {
    async fresh() {
      const name = `faxflow_${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin.db);
      const url = new URL(inject('databaseUrl'));
      url.pathname = `/${name}`;
      const handle = connectPostgres(url.toString(), { max: 2 });
      created.push({ name, handle });
      return handle;
    },
  };
}
