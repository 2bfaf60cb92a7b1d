import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

// pg returns BIGINT (bigserial ids) as strings by default; our counts fit in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  /** `postgres` for a server, `embedded` for PGlite under the data folder. */
  readonly kind: 'postgres' | 'embedded';
  close(): Promise<void>;
}

export function connectPostgres(url: string, opts: { max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/**
 * Embedded Postgres: PGlite (Postgres compiled to WASM) keeps its files under `dataDir`, and
 * pglite-socket serves it over the Postgres wire protocol on a Unix socket, so the very same `pg`
 * driver, kysely dialect and migrations run on it. PGlite is single-connection: the pool holds one.
 * Only one process may open a given data folder at a time.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<DatabaseHandle> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  // Unix socket paths are limited to ~107 bytes, so the socket lives in a short temporary folder.
  const socketDir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-pg-'));
  const server = new PGLiteSocketServer({ db: pglite, path: path.join(socketDir, '.s.PGSQL.5432') });
  await server.start();
  const pool = new pg.Pool({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres', max: 1 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'embedded',
    async close() {
      await db.destroy();
      await server.stop();
      await pglite.close();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

export async function openDatabase(opts: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<DatabaseHandle> {
  return opts.databaseUrl
    ? connectPostgres(opts.databaseUrl)
    : startEmbeddedPostgres(path.join(opts.dataDir, 'pgdata'));
}
