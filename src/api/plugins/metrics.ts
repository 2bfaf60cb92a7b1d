import type { FastifyInstance } from 'fastify';
import { httpDuration, httpRequests, metricsText, PROMETHEUS_CONTENT_TYPE } from '../../metrics/metrics';

export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics` (Prometheus text format) and the per-request counters. Installed on the root
 * instance, not registered as an encapsulated plugin, so that its hooks see every route.
 */
export function installMetrics(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: ids in paths would give a series per fax.
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === METRICS_PATH) return;
    httpRequests.inc({ method: request.method, route, code: String(reply.statusCode) });
    httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get(METRICS_PATH, async (_request, reply) => {
    return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(await metricsText());
  });
}
