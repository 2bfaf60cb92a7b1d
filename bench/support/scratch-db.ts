import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
// Also installs the BIGINT type parser every faxflow pool relies on.
import type { DatabaseHandle } from '../../src/db/connection';
import '../../src/db/connection';
import type { Database } from '../../src/db/schema';
import { migrateToLatest } from '../../src/db/migrate';

export interface ScratchDatabase {
  url: string;
  handle: DatabaseHandle;
  /** Closes the pool and drops the database (WITH FORCE), whatever state it is in. */
  drop(): Promise<void>;
}

/**
 * A throw-away database on the local PostgreSQL (trust auth, like the tests): created, migrated,
 * and dropped by `drop()`. `BENCH_ADMIN_DATABASE_URL` overrides the admin connection.
 */
export async function createScratchDatabase(label = 'faxflow_bench'): Promise<ScratchDatabase> {
  const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${label}_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // Workers, the webhook receiver and the rate budgets share one pool, as in one worker process.
  // Our own pool (rather than connectPostgres) so that a connection the final DROP ... WITH (FORCE)
  // terminates while the pool is ending is an ignored error, not an unhandled 'error' event.
  const pool = new pg.Pool({ connectionString: url.toString(), max: 20 });
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const handle: DatabaseHandle = { db, kind: 'postgres', close: () => db.destroy() };
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await handle.close().catch(() => undefined);
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    await migrateToLatest(handle.db);
  } catch (err) {
    await drop();
    throw err;
  }
  return { url: url.toString(), handle, drop };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}
