import type { FastifyPluginAsync } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { RETRY_AFTER_SECONDS } from '../unavailable';

/** A dependency check: resolves when the dependency answers. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthRoutesOptions {
  db: Kysely<Database>;
  /** Checks beside the database's, e.g. `temporal`. */
  checks?: Readonly<Record<string, ReadinessCheck>>;
}

/** A check that has not answered by then counts as down: /ready must answer fast, not hang. */
const CHECK_TIMEOUT_MS = 2_000;

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `GET /health`: liveness, the process is up and serving HTTP (never touches a dependency, so an
 * orchestrator does not restart a healthy process during a database outage).
 * `GET /ready`: readiness, every dependency answers; 503 with Retry-After and which one is down.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  const checks: Record<string, ReadinessCheck> = {
    database: () => sql`select 1`.execute(opts.db),
    ...opts.checks,
  };
  app.get('/health', async () => ({ ok: true }));
  app.get('/ready', async (request, reply) => {
    const names = Object.keys(checks);
    const results = await Promise.all(
      names.map((name) =>
        within(CHECK_TIMEOUT_MS, Promise.resolve().then(checks[name])).then(
          () => 'up' as const,
          (err: unknown) => {
            request.log.warn(
              { check: name, err: err instanceof Error ? err.message : String(err) },
              'not ready',
            );
            return 'down' as const;
          },
        ),
      ),
    );
    const report = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const ok = results.every((r) => r === 'up');
    if (!ok) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return { ok, checks: report };
  });
};
