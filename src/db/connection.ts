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

export interface PoolOptions {
  max?: number;
  /** Where idle connections' errors are reported (default: nowhere; the pool recovers either way). */
  onIdleError?: (err: Error) => void;
}

/**
 * A server restart, a failover or `pg_ctl stop -m fast` terminates every connection; pg emits that
 * on the pool for idle clients, and an 'error' event without a listener kills the process. The pool
 * has already dropped the client by then and opens a fresh one for the next query, so the process
 * only needs to hear about it: callers see the outage as failed queries (503s, retried activities).
 */
function withIdleErrorListener(pool: pg.Pool, opts: PoolOptions): pg.Pool {
  pool.on('error', (err) => opts.onIdleError?.(err));
  return pool;
}

/** A query waits at most this long for a connection, so an unreachable server fails fast. */
const CONNECT_TIMEOUT_MS = 5_000;

export function connectPostgres(url: string, opts: PoolOptions = {}): DatabaseHandle {
  const pool = withIdleErrorListener(
    new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    }),
    opts,
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/**
 * Embedded Postgres: PGlite (Postgres compiled to WASM) keeps its files under `dataDir`, and
 * pglite-socket serves it over the Postgres wire protocol on a Unix socket, so the very same `pg`
 * driver, kysely dialect and migrations run on it. PGlite is single-connection: the pool holds one.
 * Only one process may open a given data folder at a time.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  opts: Pick<PoolOptions, 'onIdleError'> = {},
): Promise<DatabaseHandle> {
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
  const pool = withIdleErrorListener(
    new pg.Pool({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres', max: 1 }),
    opts,
  );
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

export async function openDatabase(
  opts: { databaseUrl: string | undefined; dataDir: string },
  poolOpts: Pick<PoolOptions, 'onIdleError'> = {},
): Promise<DatabaseHandle> {
  return opts.databaseUrl
    ? connectPostgres(opts.databaseUrl, poolOpts)
    : startEmbeddedPostgres(path.join(opts.dataDir, 'pgdata'), poolOpts);
}

/** Pool options that report idle connections' errors (a restart, a failover) as one warning each. */
export function logIdleErrors(logger: {
  warn(obj: object, msg: string): void;
}): Pick<PoolOptions, 'onIdleError'> {
  return {
    onIdleError: (err) =>
      logger.warn({ err: err.message }, 'a pooled database connection was closed by the server'),
  };
}
